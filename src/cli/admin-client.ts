/**
 * What went wrong, as scripts tell it apart: each kind has its own exit code (docs/cli.md lists
 * them), and `--json` prints the kind as `error.code`.
 */
export const EXIT_CODES = {
  /** Anything else: a 400, a 409, a 5xx, a bug. */
  error: 1,
  /** The command line itself: unknown option or command, missing argument, bad value. */
  usage: 2,
  /** No key, a wrong key (401), a read-only key on a route that changes state (403), or 429 after wrong keys. */
  auth: 3,
  /** The service answered 404: no such endpoint, event, connection or object. */
  not_found: 4,
  /** No answer: connection refused, DNS, timeout. */
  unreachable: 5,
  /** A command that waits for processing saw the event end anything but processed. */
  not_processed: 6,
} as const;

export type ErrorKind = keyof typeof EXIT_CODES;

function kindOfStatus(status: number | undefined): ErrorKind {
  if (status === 401 || status === 403 || status === 429) return 'auth';
  if (status === 404) return 'not_found';
  return 'error';
}

/** A failure the CLI reports (one line, or `{"error": …}` with --json) and exits with its kind's code. */
export class CliError extends Error {
  readonly kind: ErrorKind;
  /** The service's stable error code (`ENDPOINT_NOT_FOUND`, …), when it sent one. */
  readonly serviceCode?: string;

  constructor(
    message: string,
    /** The HTTP status the service answered, when it answered. */
    readonly status?: number,
    options: { kind?: ErrorKind; serviceCode?: string } = {},
  ) {
    super(message);
    this.kind = options.kind ?? kindOfStatus(status);
    this.serviceCode = options.serviceCode;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }

  /** A command line that cannot run as given (exit 2), e.g. a missing confirmation. */
  static usage(message: string): CliError {
    return new CliError(message, undefined, { kind: 'usage' });
  }

  /** An event that ended anything but processed (exit 6). */
  static notProcessed(message: string): CliError {
    return new CliError(message, undefined, { kind: 'not_processed' });
  }
}

export interface AdminClientOptions {
  /** The service, e.g. http://localhost:3000. */
  baseUrl: string;
  /** One of the service's ADMIN_API_KEYS. */
  key?: string;
  timeoutMs?: number;
}

/**
 * The running service's admin API, over HTTP: the CLI goes through the same routes, validation
 * and services as any other admin client, and never needs the database or the secrets key.
 */
export class AdminClient {
  readonly baseUrl: string;

  constructor(private readonly options: AdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    const search = params.size > 0 ? `?${params.toString()}` : '';
    return this.request<T>('GET', `${path}${search}`);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!this.options.key) {
      throw new CliError(
        'No admin key: pass --key <key>, or set ADMIN_API_KEY (or ADMIN_API_KEYS, as the service has it)',
        undefined,
        { kind: 'auth' },
      );
    }
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.key}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      // ECONNREFUSED, ENOTFOUND…; fetch's own refusals (a blocked port) carry only a message.
      const { cause, name } = error as { cause?: { code?: string; message?: string }; name: string };
      const reason = cause?.code ?? cause?.message ?? name;
      throw new CliError(
        `Cannot reach the service at ${this.baseUrl} (${reason}). Is it running (npm start)? Point --url or PANORA_WEBHOOKS_URL at it.`,
        undefined,
        { kind: 'unreachable' },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed as T;
    const { message, code } = (parsed ?? {}) as { message?: unknown; code?: unknown };
    const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : text;
    throw new CliError(`${method} ${path.split('?')[0]} answered ${response.status}: ${detail}`, response.status, {
      serviceCode: typeof code === 'string' ? code : undefined,
    });
  }
}
