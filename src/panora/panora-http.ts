import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { z } from 'zod';
import { CHECK_API_KEY, PanoraApiError } from './panora-api-error';

export interface PanoraClientOptions {
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** Attempts per call, the first included (default 3). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter (default 250 ms). */
  backoffMs?: number;
  /**
   * The longest Retry-After a 429 is waited out for before the next attempt (default 5 s): a
   * longer one fails the call at once with `retryAfterMs`, for the caller to pace itself.
   */
  maxRetryAfterMs?: number;
  /** Told about every attempt (metrics): route with ids as `:id` and no query, HTTP status or what failed. */
  onAttempt?: (route: string, status: number | 'timeout' | 'network', milliseconds: number) => void;
}

export interface RequestOptions {
  body?: unknown;
  /** Query parameters; undefined and null ones are left out. */
  query?: Record<string, string | number | null | undefined>;
  /** Headers besides accept, x-api-key and content-type (e.g. x-connection-token). */
  headers?: Record<string, string>;
  /** Whether repeating the call is harmless; decides which failures are retried. */
  idempotent: boolean;
  /** Credentials besides the API key that must never appear in a message (a connection token). */
  secrets?: readonly string[];
}

export interface Answer {
  status: number;
  /** The parsed JSON body; undefined when empty or not JSON. */
  body: unknown;
  text: string;
  /** Retry-After, in milliseconds, when Panora sent one. */
  retryAfterMs: number | null;
}

/** Connection errors that mean the request never reached Panora, so even a POST may be resent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const MESSAGE_MAX = 300;
/** Panora's answer to an unknown key: `AuthService.validateApiKey` throws, its filter makes it a 500. */
const API_KEY_NOT_FOUND = /^API Key not found\.?$/;
/** Panora's answer to an unknown connection token; the token follows, and is redacted. */
const CONNECTION_UNDEFINED = /Connection undefined for token\b.*$/;
const CURSOR_UNKNOWN = 'The provided cursor does not exist';

/**
 * The request machinery of the one client of Panora's API (see shared/panora-facts.md): nothing
 * else builds Panora URLs. Each attempt has a timeout; for idempotent calls (GET, PUT, DELETE)
 * network errors, timeouts and 5xx answers are retried with exponential backoff, 4xx answers never,
 * but a 429 (Panora's throttler refuses before any handler runs) is retried for every call, after
 * its Retry-After. A refused API key, connection token or cursor is never retried. A POST creates
 * something, and Panora may have done so before a 5xx, a timeout or a dropped connection: it is
 * resent only when it cannot have reached Panora (connection refused, DNS). Otherwise the error says
 * `mayHaveActed` and the caller settles what Panora holds (see `PanoraRegistrar`).
 */
export class PanoraHttp {
  private readonly logger = new Logger('PanoraClient');
  private readonly baseUrl: string;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;

  constructor(private readonly options: PanoraClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffMs = options.backoffMs ?? 250;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 5000;
  }

  get configured(): boolean {
    return !!this.options.apiKey;
  }

  /** The body, checked against `schema`; a mismatch is a `malformed` PanoraApiError that names no value. */
  parse<T>(route: string, schema: z.ZodType<T>, answer: Answer): T {
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

  /** `path` without its query (`options.query`); the error's route is `METHOD path`. */
  async request(method: string, path: string, options: RequestOptions): Promise<Answer> {
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
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== null) query.set(name, String(value));
    }
    const url = `${this.baseUrl}${path}${query.size > 0 ? `?${query.toString()}` : ''}`;
    for (let attempt = 1; ; attempt++) {
      let error: PanoraApiError;
      let retryable: boolean;
      const started = performance.now();
      try {
        const answer = await this.attempt(method, url, apiKey, options);
        this.options.onAttempt?.(template, answer.status, performance.now() - started);
        if (answer.status >= 200 && answer.status < 300) return answer;
        [error, retryable] = this.httpError(answer, route, options);
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
        if (error.retryAfterMs !== null) error.message += `; Panora asks to retry after ${error.retryAfterMs} ms`;
        if (error.apiKeyRefused) error.message += `; ${CHECK_API_KEY}`;
        throw error;
      }
      const backoff = this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      const delay = error.retryAfterMs ?? backoff;
      this.logger.warn(`${error.message}; retrying in ${Math.round(delay)} ms (attempt ${attempt + 1})`);
      await sleep(delay);
    }
  }

  /** The error for a non-2xx answer, and whether another attempt may go. */
  private httpError(answer: Answer, route: string, options: RequestOptions): [PanoraApiError, boolean] {
    const { status } = answer;
    const panoraMessage = this.messageOf(answer, options.secrets ?? []);
    const message = `Panora answered ${status} to ${route}${panoraMessage ? `: ${panoraMessage}` : ''}`;
    if (status === 429) {
      // The throttler answers before any handler: nothing was done, even a POST may go again.
      const error = new PanoraApiError({
        failure: 'http',
        route,
        status,
        panoraMessage,
        retryAfterMs: answer.retryAfterMs,
        message,
      });
      return [error, answer.retryAfterMs === null || answer.retryAfterMs <= this.maxRetryAfterMs];
    }
    const apiKeyRefused =
      status === 401 || status === 403 || (status === 500 && API_KEY_NOT_FOUND.test(panoraMessage ?? ''));
    const connectionRefused = status === 500 && CONNECTION_UNDEFINED.test(panoraMessage ?? '');
    const cursorRefused = status === 500 && (panoraMessage ?? '').includes(CURSOR_UNKNOWN);
    const error = new PanoraApiError({
      failure: 'http',
      route,
      status,
      panoraMessage,
      // Panora checks the key, the token and the cursor before acting.
      mayHaveActed: status >= 500 && !apiKeyRefused && !connectionRefused && !cursorRefused,
      apiKeyRefused,
      connectionRefused,
      cursorRefused,
      message,
    });
    // A 5xx may come after Panora acted (the endpoint made, then a failure): resending a POST
    // would make a second one. A refusal answers the same the next time.
    return [error, status >= 500 && options.idempotent && !apiKeyRefused && !connectionRefused && !cursorRefused];
  }

  private async attempt(method: string, url: string, apiKey: string, options: RequestOptions): Promise<Answer> {
    const { body } = options;
    const response = await fetch(url, {
      method,
      headers: {
        ...options.headers,
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
    return { status: response.status, body: parsed, text, retryAfterMs: retryAfter(response.headers) };
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

  /** Panora's error message (`{message}` from its Nest filter, or the raw text), short, key- and token-free. */
  private messageOf(answer: Answer, secrets: readonly string[]): string | null {
    let message: string | null = null;
    const field = (answer.body as { message?: unknown } | null | undefined)?.message;
    if (typeof field === 'string') message = field;
    else if (Array.isArray(field)) message = field.filter((item) => typeof item === 'string').join('; ');
    else if (answer.body === undefined && answer.text.trim().length > 0) message = answer.text;
    if (!message) return null;
    for (const secret of [this.options.apiKey, ...secrets]) {
      if (secret) message = message.split(secret).join('[redacted]');
    }
    // Whatever follows "for token" is a token, even one this call did not send verbatim.
    message = message
      .replace(/\s+/g, ' ')
      .trim()
      .replace(CONNECTION_UNDEFINED, 'Connection undefined for token [redacted]');
    return message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message;
  }
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds; null when absent or unreadable. */
export function retryAfter(headers: Headers): number | null {
  const value = headers.get('retry-after')?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
