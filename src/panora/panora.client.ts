import { setTimeout as sleep } from 'node:timers/promises';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { DomainException } from '../platform/http';

/** What went wrong talking to Panora. */
export type PanoraFailure =
  /** PANORA_API_KEY is unset: no request was sent. */
  | 'not_configured'
  /** Panora answered with a non-2xx status (`status` says which). */
  | 'http'
  /** No answer within PANORA_TIMEOUT_MS. */
  | 'timeout'
  /** Panora could not be reached (refused, reset, DNS). */
  | 'network'
  /** A 2xx whose body is not what the call relies on. */
  | 'malformed';

export enum PanoraErrorCode {
  Failed = 'PANORA_ERROR',
  NotConfigured = 'PANORA_NOT_CONFIGURED',
}

/**
 * A failed call to Panora's management API. The message says what Panora answered and to which
 * route; it never carries the API key (it is redacted should Panora echo it).
 *
 * Services let it go up: it is the one mapping of Panora's failures to an answer, 503
 * PANORA_NOT_CONFIGURED when PANORA_API_KEY is unset, else 502 PANORA_ERROR with what Panora
 * answered, and a hint when Panora refused the key.
 */
export class PanoraApiError extends DomainException<PanoraErrorCode> {
  protected readonly statuses = {
    [PanoraErrorCode.Failed]: HttpStatus.BAD_GATEWAY,
    [PanoraErrorCode.NotConfigured]: HttpStatus.SERVICE_UNAVAILABLE,
  };
  readonly failure: PanoraFailure;
  /** e.g. `POST /webhooks` */
  readonly route: string;
  /** Panora's HTTP status, null when there was no answer. */
  readonly status: number | null;
  /** Panora's own message (shortened), when it sent one. */
  readonly panoraMessage: string | null;
  /** True when Panora may have acted on the request although the call failed (timeout, 5xx…). */
  readonly mayHaveActed: boolean;

  constructor(init: {
    failure: PanoraFailure;
    route: string;
    status?: number | null;
    panoraMessage?: string | null;
    mayHaveActed?: boolean;
    message: string;
  }) {
    super(init.failure === 'not_configured' ? PanoraErrorCode.NotConfigured : PanoraErrorCode.Failed, init.message);
    this.failure = init.failure;
    this.route = init.route;
    this.status = init.status ?? null;
    this.panoraMessage = init.panoraMessage ?? null;
    this.mayHaveActed = init.mayHaveActed ?? false;
  }

  override get answer(): string {
    return this.status === 401 || this.status === 403 ? `${this.message}; check PANORA_API_KEY` : this.message;
  }
}

const text = z.string().nullish();

/** A webhook endpoint as Panora returns it. Only `id_webhook_endpoint` is relied on everywhere. */
const webhookSchema = z.object({
  id_webhook_endpoint: z.string().min(1),
  endpoint_description: text,
  url: text,
  secret: text,
  active: z.boolean().nullish(),
  scope: z.array(z.string()).nullish(),
  id_project: text,
  created_at: z.union([z.string(), z.number()]).nullish(),
  last_update: z.union([z.string(), z.number()]).nullish(),
});
const createdWebhookSchema = webhookSchema.extend({ secret: z.string().min(1) });
const connectionSchema = z.looseObject({ id_connection: z.string().min(1) });
const linkedUserSchema = z.looseObject({
  id_linked_user: z.string().min(1),
  linked_user_origin_id: z.string().nullish(),
});

export type PanoraWebhook = z.infer<typeof webhookSchema>;
export type PanoraCreatedWebhook = z.infer<typeof createdWebhookSchema>;
/** A connection row; it carries `connection_token`, a credential: never log or store it in clear. */
export type PanoraConnection = z.infer<typeof connectionSchema>;
export type PanoraLinkedUser = z.infer<typeof linkedUserSchema>;

export interface CreateWebhookInput {
  url: string;
  description?: string | null;
  scope: string[];
}

export interface PanoraClientOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** Attempts per call, the first included (default 3). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter (default 250 ms). */
  backoffMs?: number;
  /** Told about every attempt (metrics): route with ids as `:id`, HTTP status or what failed. */
  onAttempt?: (route: string, status: number | 'timeout' | 'network', milliseconds: number) => void;
}

interface RequestOptions {
  body?: unknown;
  /** Whether repeating the call is harmless; decides which failures are retried. */
  idempotent: boolean;
}

/** Connection errors that mean the request never reached Panora, so even a POST may be resent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const MESSAGE_MAX = 300;

/**
 * The one client of Panora's management API (see shared/panora-facts.md): nothing else builds
 * Panora URLs. Each attempt has a timeout; for idempotent calls (GET, PUT, DELETE) network errors,
 * timeouts and 5xx answers are retried with exponential backoff, 4xx answers never. A POST creates
 * something, and Panora may have done so before a 5xx, a timeout or a dropped connection: it is
 * resent only when it cannot have reached Panora (connection refused, DNS). Otherwise the error says
 * `mayHaveActed` and the caller settles what Panora holds (see `PanoraRegistrar`).
 */
@Injectable()
export class PanoraClient {
  private readonly logger = new Logger(PanoraClient.name);
  private readonly baseUrl: string;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: PanoraClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffMs = options.backoffMs ?? 250;
  }

  get configured(): boolean {
    return !!this.options.apiKey;
  }

  /**
   * `POST /webhooks`: registers an endpoint; the answer carries its signing secret. Sent once
   * (unless the connection was refused): on an error with `mayHaveActed`, Panora may hold an
   * endpoint for `url` that this call could not return; `GET /webhooks` tells.
   */
  async createWebhook(input: CreateWebhookInput): Promise<PanoraCreatedWebhook> {
    const body: Record<string, unknown> = { url: input.url, scope: input.scope };
    if (input.description) body.description = input.description;
    const route = 'POST /webhooks';
    return this.parse(
      route,
      createdWebhookSchema,
      await this.request('POST', '/webhooks', { body, idempotent: false }),
    );
  }

  /** `GET /webhooks`: the project's endpoints (Panora includes their secrets). */
  async listWebhooks(): Promise<PanoraWebhook[]> {
    const route = 'GET /webhooks';
    return this.parse(route, z.array(webhookSchema), await this.request('GET', '/webhooks', { idempotent: true }));
  }

  /**
   * `PUT /webhooks/:id {active}`. Panora's code answers 200 with the row, its OpenAPI file 201
   * without a body: any 2xx is success; the row is returned when one came back.
   */
  async updateWebhookStatus(id: string, active: boolean): Promise<PanoraWebhook | null> {
    const path = `/webhooks/${encodeURIComponent(id)}`;
    return this.optionalRow(await this.request('PUT', path, { body: { active }, idempotent: true }));
  }

  /** `DELETE /webhooks/:id`: any 2xx is success (code 200 with the row, spec 201). */
  async deleteWebhook(id: string): Promise<PanoraWebhook | null> {
    const path = `/webhooks/${encodeURIComponent(id)}`;
    return this.optionalRow(await this.request('DELETE', path, { idempotent: true }));
  }

  /** `GET /connections`: the project's connections, with their `connection_token`. */
  async listConnections(): Promise<PanoraConnection[]> {
    const route = 'GET /connections';
    return this.parse(
      route,
      z.array(connectionSchema),
      await this.request('GET', '/connections', { idempotent: true }),
    );
  }

  /** `GET /linked_users/:id`: its `linked_user_origin_id` is the app's own end-user id. */
  async getLinkedUser(id: string): Promise<PanoraLinkedUser> {
    const path = `/linked_users/${encodeURIComponent(id)}`;
    return this.parse(`GET ${path}`, linkedUserSchema, await this.request('GET', path, { idempotent: true }));
  }

  private optionalRow(answer: Answer): PanoraWebhook | null {
    const parsed = webhookSchema.safeParse(answer.body);
    return parsed.success ? parsed.data : null;
  }

  private parse<T>(route: string, schema: z.ZodType<T>, answer: Answer): T {
    const parsed = schema.safeParse(answer.body);
    if (parsed.success) return parsed.data;
    // Zod's messages name paths and expected types, never the values (which may be secrets).
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new PanoraApiError({
      failure: 'malformed',
      route,
      status: answer.status,
      mayHaveActed: true,
      message: `Panora answered ${answer.status} to ${route} with an unexpected body (${where}${issue.message})`,
    });
  }

  private async request(method: string, path: string, options: RequestOptions): Promise<Answer> {
    const route = `${method} ${path}`;
    const apiKey = this.options.apiKey;
    if (!apiKey) {
      throw new PanoraApiError({
        failure: 'not_configured',
        route,
        message: 'Panora is not configured: set PANORA_API_KEY (and PANORA_BASE_URL for a self-hosted Panora)',
      });
    }
    const template = `${method} ${path.replace(/^\/(webhooks|linked_users)\/[^/]+$/, '/$1/:id')}`;
    for (let attempt = 1; ; attempt++) {
      let error: PanoraApiError;
      let retryable: boolean;
      const started = performance.now();
      try {
        const answer = await this.attempt(method, path, apiKey, options.body);
        this.options.onAttempt?.(template, answer.status, performance.now() - started);
        if (answer.status >= 200 && answer.status < 300) return answer;
        const panoraMessage = this.messageOf(answer);
        error = new PanoraApiError({
          failure: 'http',
          route,
          status: answer.status,
          panoraMessage,
          mayHaveActed: answer.status >= 500,
          message: `Panora answered ${answer.status} to ${route}${panoraMessage ? `: ${panoraMessage}` : ''}`,
        });
        // A 5xx may come after Panora acted (the endpoint made, then a failure): resending a POST
        // would make a second one.
        retryable = answer.status >= 500 && options.idempotent;
      } catch (caught) {
        [error, retryable] = this.networkError(caught, route, options.idempotent);
        this.options.onAttempt?.(
          template,
          error.failure === 'timeout' ? 'timeout' : 'network',
          performance.now() - started,
        );
      }
      if (!retryable || attempt >= this.maxAttempts) {
        if (attempt > 1) error.message += ` (after ${attempt} attempts)`;
        throw error;
      }
      const delay = this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      this.logger.warn(`${error.message}; retrying in ${Math.round(delay)} ms (attempt ${attempt + 1})`);
      await sleep(delay);
    }
  }

  private async attempt(method: string, path: string, apiKey: string, body: unknown): Promise<Answer> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        'x-api-key': apiKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs),
      // A redirect is answered as what it is (a 3xx error), never followed with the API key.
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text.trim().length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: `parse` reports it when the call needs a body; errors keep the raw text.
    }
    return { status: response.status, body: parsed, text };
  }

  private networkError(caught: unknown, route: string, idempotent: boolean): [PanoraApiError, boolean] {
    const err = caught as { name?: string; cause?: { code?: string; name?: string }; code?: string } | null;
    if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') {
      const error = new PanoraApiError({
        failure: 'timeout',
        route,
        mayHaveActed: true,
        message: `Panora did not answer ${route} within ${this.options.timeoutMs} ms`,
      });
      return [error, idempotent];
    }
    const code = err?.cause?.code ?? err?.code;
    const notSent = code !== undefined && NOT_SENT.has(code);
    const error = new PanoraApiError({
      failure: 'network',
      route,
      mayHaveActed: !notSent,
      message: `Panora could not be reached at ${this.baseUrl} for ${route}${code ? ` (${code})` : ''}`,
    });
    return [error, idempotent || notSent];
  }

  /** Panora's error message (`{message}` from its Nest filter, or the raw text), short and key-free. */
  private messageOf(answer: Answer): string | null {
    let message: string | null = null;
    const field = (answer.body as { message?: unknown } | null | undefined)?.message;
    if (typeof field === 'string') message = field;
    else if (Array.isArray(field)) message = field.filter((item) => typeof item === 'string').join('; ');
    else if (answer.body === undefined && answer.text.trim().length > 0) message = answer.text;
    if (!message) return null;
    const apiKey = this.options.apiKey;
    if (apiKey) message = message.split(apiKey).join('[redacted]');
    message = message.replace(/\s+/g, ' ').trim();
    return message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message;
  }
}

interface Answer {
  status: number;
  /** The parsed JSON body; undefined when empty or not JSON. */
  body: unknown;
  text: string;
}
