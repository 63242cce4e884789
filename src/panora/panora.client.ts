import { Injectable } from '@nestjs/common';
import { PanoraHttp, type PanoraClientOptions } from './panora-http';
import {
  createWebhook,
  deleteWebhook,
  getLinkedUser,
  listConnections,
  listWebhooks,
  updateWebhookStatus,
  type CreateWebhookInput,
  type PanoraConnectionRow,
  type PanoraCreatedWebhook,
  type PanoraLinkedUser,
  type PanoraWebhook,
} from './panora-management';
import {
  listEvents,
  listUnified,
  type PanoraEventRow,
  type UnifiedListOptions,
  type UnifiedPage,
} from './panora-reads';

/**
 * The one client of Panora's API (see shared/panora-facts.md): nothing else builds Panora URLs.
 * The calls live by job in panora-management.ts (webhooks, connections, linked users) and
 * panora-reads.ts (events, unified lists); the attempts, retries and errors in panora-http.ts;
 * every failure is a PanoraApiError (panora-api-error.ts).
 */
@Injectable()
export class PanoraClient {
  private readonly http: PanoraHttp;

  constructor(options: PanoraClientOptions) {
    this.http = new PanoraHttp(options);
  }

  get configured(): boolean {
    return this.http.configured;
  }

  /**
   * `POST /webhooks`: registers an endpoint; the answer carries its signing secret. Sent once
   * (unless the connection was refused, or Panora's throttler answered 429): on an error with
   * `mayHaveActed`, Panora may hold an endpoint for `url` that this call could not return;
   * `GET /webhooks` tells.
   */
  createWebhook(input: CreateWebhookInput): Promise<PanoraCreatedWebhook> {
    return createWebhook(this.http, input);
  }

  /** `GET /webhooks`: the project's endpoints (Panora includes their secrets). */
  listWebhooks(): Promise<PanoraWebhook[]> {
    return listWebhooks(this.http);
  }

  /**
   * `PUT /webhooks/:id {active}`. Panora's code answers 200 with the row, its OpenAPI file 201
   * without a body: any 2xx is success; the row is returned when one came back.
   */
  updateWebhookStatus(id: string, active: boolean): Promise<PanoraWebhook | null> {
    return updateWebhookStatus(this.http, id, active);
  }

  /** `DELETE /webhooks/:id`: any 2xx is success (code 200 with the row, spec 201). */
  deleteWebhook(id: string): Promise<PanoraWebhook | null> {
    return deleteWebhook(this.http, id);
  }

  /** `GET /connections`: the project's connections, with their `connection_token`. */
  listConnections(): Promise<PanoraConnectionRow[]> {
    return listConnections(this.http);
  }

  /** `GET /linked_users/:id`: its `linked_user_origin_id` is the app's own end-user id. */
  getLinkedUser(id: string): Promise<PanoraLinkedUser> {
    return getLinkedUser(this.http, id);
  }

  /**
   * `GET /events?page=&limit=`: page `page` (1-based, integers ≥ 1, else a RangeError) of the
   * project's events, newest first; `[]` past the last page. Panora filters nothing (no time, type
   * or connection) and new events push older ones to later pages: dedupe on `id_event`.
   */
  listEvents(page: number, limit: number): Promise<PanoraEventRow[]> {
    return listEvents(this.http, page, limit);
  }

  /**
   * `GET /<path>?limit=&cursor=` (`path` e.g. `crm/contacts`) with `x-connection-token`: one
   * page of the connection's unified objects and the next cursor, null on the last page. Refused
   * before any request without a token (`failure: 'no_token'`); `connectionRefused` when Panora
   * does not know the token, `cursorRefused` when it does not know the cursor. The token is never
   * in an error.
   */
  listUnified(path: string, connectionToken: string, options: UnifiedListOptions): Promise<UnifiedPage> {
    return listUnified(this.http, path, connectionToken, options);
  }
}
