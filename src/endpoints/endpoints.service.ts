import { Injectable } from '@nestjs/common';
import { EndpointViewMapper } from './endpoint-view.mapper';
import { EndpointView } from './endpoint-views.dto';
import { EndpointsRepository } from './endpoints.repository';
import { endpointNotFound } from './endpoints.exception';
import type { WebhookEndpoint } from './webhook-endpoint.entity';

/**
 * The context of the endpoints admin API's log lines, whichever class of the module writes them
 * (registration, import, sync, overlap warnings): operators filter on it.
 */
export const ENDPOINTS_LOG_CONTEXT = 'EndpointsService';

/** An active endpoint and the event types it subscribes to. */
export interface ActiveEndpointScope {
  id: string;
  scope: string[];
}

/**
 * Reads endpoints for the admin API. The changes live beside it: the registration saga with
 * Panora (EndpointRegistrationService), imports of dashboard endpoints (EndpointImportService),
 * the comparison with Panora (EndpointSyncService).
 */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly repository: EndpointsRepository,
    private readonly views: EndpointViewMapper,
  ) {}

  async list(): Promise<EndpointView[]> {
    const endpoints = await this.repository.listWithSecrets({ createdAt: 'ASC', id: 'ASC' });
    return endpoints.map((endpoint) => this.views.view(endpoint));
  }

  /** One endpoint; 404 for an unknown, deleted or malformed id. */
  async get(id: string): Promise<EndpointView> {
    return this.views.view(await this.findOrFail(id));
  }

  /**
   * The active endpoints' ids and scopes, oldest first (for recovery: an event Panora lists was
   * sent to us only when one of them subscribes to its type).
   */
  async activeScopes(): Promise<ActiveEndpointScope[]> {
    const active = await this.repository.listActive();
    return active
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map((endpoint) => ({ id: endpoint.id, scope: [...endpoint.scope] }));
  }

  /** The endpoint with its secrets; 404 for an unknown, deleted or malformed id. */
  async findOrFail(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.repository.findWithSecrets(id);
    if (!endpoint) throw endpointNotFound();
    return endpoint;
  }
}
