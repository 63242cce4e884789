/** A failure the CLI reports in one line and exits 1 with. */
export class CliError extends Error {
  constructor(
    message: string,
    /** The HTTP status the service answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
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
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new CliError(
        `Cannot reach the service at ${this.baseUrl} (${cause}). Is it running (npm start)? Point --url or PANORA_WEBHOOKS_URL at it.`,
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
    const message = (parsed as { message?: unknown } | undefined)?.message;
    const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : text;
    throw new CliError(`${method} ${path.split('?')[0]} answered ${response.status}: ${detail}`, response.status);
  }
}
