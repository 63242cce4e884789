import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../platform/http';

/** What went wrong talking to Panora. */
export type PanoraFailure =
  /** PANORA_API_KEY is unset: no request was sent. */
  | 'not_configured'
  /** A unified read was asked without a connection token: refused before sending (Panora would answer with some other connection's data). */
  | 'no_token'
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

/** What `answer` and the client's messages add when Panora refused the API key. */
export const CHECK_API_KEY = 'check PANORA_API_KEY';

/**
 * A failed call to Panora's management API. The message says what Panora answered and to which
 * route; it never carries the API key nor a connection token (they are redacted should Panora
 * echo them).
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
  /** e.g. `POST /webhooks`, `GET /crm/contacts` (without the query). */
  readonly route: string;
  /** Panora's HTTP status, null when there was no answer. */
  readonly status: number | null;
  /** Panora's own message (shortened, key and token redacted), when it sent one. */
  readonly panoraMessage: string | null;
  /** True when Panora may have acted on the request although the call failed (timeout, 5xx…). */
  readonly mayHaveActed: boolean;
  /** With status 429: how long Panora asked to wait (its Retry-After), null when it did not say. */
  readonly retryAfterMs: number | null;
  /** Panora refused the connection token (its "Connection undefined for token …"): retrying will not help. */
  readonly connectionRefused: boolean;
  /** Panora refused the cursor of a unified list (its "The provided cursor does not exist!"): start the walk again. */
  readonly cursorRefused: boolean;
  /** Panora refused the API key (401, 403, or its 500 "API Key not found."): not retried. */
  readonly apiKeyRefused: boolean;

  constructor(init: {
    failure: PanoraFailure;
    route: string;
    status?: number | null;
    panoraMessage?: string | null;
    mayHaveActed?: boolean;
    retryAfterMs?: number | null;
    connectionRefused?: boolean;
    cursorRefused?: boolean;
    apiKeyRefused?: boolean;
    message: string;
  }) {
    super(init.failure === 'not_configured' ? PanoraErrorCode.NotConfigured : PanoraErrorCode.Failed, init.message);
    this.failure = init.failure;
    this.route = init.route;
    this.status = init.status ?? null;
    this.panoraMessage = init.panoraMessage ?? null;
    this.mayHaveActed = init.mayHaveActed ?? false;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.connectionRefused = init.connectionRefused ?? false;
    this.cursorRefused = init.cursorRefused ?? false;
    this.apiKeyRefused = init.apiKeyRefused ?? (this.status === 401 || this.status === 403);
  }

  override get answer(): string {
    return this.apiKeyRefused && !this.message.includes(CHECK_API_KEY)
      ? `${this.message}; ${CHECK_API_KEY}`
      : this.message;
  }
}
