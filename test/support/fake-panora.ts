import { randomUUID } from 'node:crypto';
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FakePanoraReads } from './fake-panora-reads';
import type { FakeCrmKind, FakeEventRow, FakeUnifiedObject, RecordEventInput } from './fake-panora-reads';
import { FakeThrottler, newGate, throttledBody } from './fake-panora-switches';
import type { FakeRateLimit, Gate, Rule, RuleOptions } from './fake-panora-switches';

export { FAKE_CRM_LISTS, FAKE_LINKED_USER_ID } from './fake-panora-reads';
export type { FakeCrmKind, FakeEventRow, FakeUnifiedObject, RecordEventInput } from './fake-panora-reads';
export type { FakeRateLimit, Gate, RuleOptions } from './fake-panora-switches';

/** A webhook endpoint row as Panora's `POST /webhooks` and `GET /webhooks` return it. */
export interface FakeWebhook {
  id_webhook_endpoint: string;
  endpoint_description: string | null;
  url: string;
  secret: string;
  active: boolean;
  created_at: string;
  scope: string[];
  id_project: string;
  last_update: string;
}

export interface RecordedRequest {
  method: string;
  /** Without the query. */
  path: string;
  /** The path with its query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface Answer {
  status: number;
  body: unknown;
}

export const FAKE_PROJECT_ID = 'b4b0fb2e-0c4d-4c1f-9c53-9a8f1b1f0001';

/**
 * A small Panora API on 127.0.0.1 (node:http), following the table in shared/panora-facts.md:
 * `x-api-key` auth, webhooks CRUD with UUID secrets, connections and linked users, and (see
 * fake-panora-reads.ts) `GET /events` and the unified CRM lists as Panora's code serves them.
 * Records every request (headers included) and has switches for failures.
 *
 * The management routes answer any wrong key 401 `{statusCode, message}` (what the specs written
 * for them rely on); the read routes answer as Panora's code does: no key 401, an unknown key 500
 * `API Key not found.`, error bodies `{statusCode, timestamp, path, message}`.
 */
export class FakePanora {
  readonly webhooks = new Map<string, FakeWebhook>();
  readonly requests: RecordedRequest[] = [];
  /** Every secret this fake ever handed out, to check none leaks. */
  readonly issuedSecrets: string[] = [];
  readonly connections: Record<string, unknown>[] = [];
  readonly linkedUsers = new Map<string, Record<string, unknown>>();
  /** `GET /events` and the unified lists: their rows, objects and helpers. */
  readonly reads: FakePanoraReads;
  private throttler: FakeThrottler | null = null;
  private rules: Rule[] = [];
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  url = '';

  constructor(readonly apiKey = 'test-key') {
    this.reads = new FakePanoraReads(apiKey, FAKE_PROJECT_ID, this.connections);
  }

  /** Panora's `events` rows, in insertion order (`GET /events` serves them newest first). */
  get events(): FakeEventRow[] {
    return this.reads.events;
  }

  /**
   * An `events` row "written by Panora" (with a fresh id_event), as a delivery of the same event
   * would carry: method `SYNC` (url /sync) for `*.pulled`, `POST` for `*.created` / `*.push`,
   * `GET` with url /oauth2/callback for `connection.created`.
   */
  recordEvent(input: RecordEventInput): FakeEventRow {
    return this.reads.recordEvent(input);
  }

  /** Unified objects of `kind` for the connection with this token (`GET /crm/<kind>s`); an object with a stored `id` replaces it. */
  putUnified(
    connectionToken: string,
    kind: FakeCrmKind,
    objects: readonly Record<string, unknown>[],
  ): FakeUnifiedObject[] {
    return this.reads.putUnified(connectionToken, kind, objects);
  }

  static async start(apiKey?: string): Promise<FakePanora> {
    const fake = new FakePanora(apiKey);
    fake.server = createServer((req, res) => void fake.handle(req, res));
    fake.server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => fake.server!.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as { port: number }).port}`;
    return fake;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answers `status` with a Nest-style error body, without acting (401, 500…). */
  failWith(
    status: number,
    options: RuleOptions = {},
    message = status === 401 ? 'Unauthorized' : 'Internal server error',
  ): this {
    return this.addRule(options, { respond: { status, body: JSON.stringify({ statusCode: status, message }) } });
  }

  /**
   * Answers 429 as Panora's throttler does, with `Retry-After: retryAfter` (seconds, or an HTTP
   * date; none when null), without acting.
   */
  throttle(options: RuleOptions = {}, retryAfter: string | null = '1'): this {
    return this.addRule(options, {
      respond: {
        status: 429,
        body: throttledBody(''),
        headers: retryAfter === null ? {} : { 'retry-after': retryAfter },
      },
    });
  }

  /**
   * Panora's throttler (its code: 100 requests per 60 s per IP, every route): over `limit`
   * requests in a window, 429 with Retry-After; null turns it off, as does `reset`.
   */
  limitRate(rate: FakeRateLimit | null): this {
    this.throttler = rate ? new FakeThrottler(rate) : null;
    return this;
  }

  /** Answers `status` with this raw body, without acting. */
  answerWith(status: number, body: string, options: RuleOptions = {}): this {
    return this.addRule(options, { respond: { status, body } });
  }

  /** Acts, then answers a body that is not what Panora documents (default: JSON without the needed fields). */
  malformed(options: RuleOptions = {}, body = '{"id_webhook_endpoint":42,"ok":true}'): this {
    return this.addRule(options, { replaceBody: body });
  }

  /** Acts at once, answers after `delayMs`. */
  slow(delayMs: number, options: RuleOptions = {}): this {
    return this.addRule(options, { delayMs });
  }

  /**
   * Acts (an endpoint is created, updated or deleted), then answers `status` with a Nest-style
   * error body anyway: what a Panora that fails after its database write does.
   */
  actThenFail(
    status: number,
    options: RuleOptions & { copies?: number } = {},
    message = 'Internal server error',
  ): this {
    return this.addRule(options, {
      afterActing: { status, body: JSON.stringify({ statusCode: status, message }) },
      copies: options.copies,
    });
  }

  /** Acts, then never answers (past any client timeout): the connection stays open until the client drops it. */
  actThenHang(options: RuleOptions = {}): this {
    return this.addRule(options, { hang: true });
  }

  /**
   * Acts at once (an endpoint is created, updated or deleted), then holds the answer until the
   * test calls `release()` on the returned gate: lets a test put other calls between Panora's
   * write and the client learning of it, deterministically. With `failWith`, the held answer is
   * that status with a Nest-style error body (a 5xx after acting) instead of the result.
   */
  holdAnswer(options: RuleOptions = {}, failWith?: { status: number; message?: string }): Gate {
    const gate = newGate();
    const status = failWith?.status;
    this.addRule(options, {
      gate,
      ...(status === undefined
        ? {}
        : {
            afterActing: {
              status,
              body: JSON.stringify({ statusCode: status, message: failWith?.message ?? 'Internal server error' }),
            },
          }),
    });
    return { arrived: gate.arrived, release: () => gate.release() };
  }

  /** Clears switches (the rate limit too) and recorded requests (not the stored webhooks, events or objects). */
  reset(): void {
    this.rules = [];
    this.requests.length = 0;
    this.throttler = null;
  }

  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
  }

  /** An endpoint made "in Panora's dashboard". */
  addWebhook(partial: Partial<FakeWebhook> & { url: string; scope: string[] }): FakeWebhook {
    const now = new Date().toISOString();
    const row: FakeWebhook = {
      id_webhook_endpoint: randomUUID(),
      endpoint_description: null,
      secret: randomUUID(),
      active: true,
      created_at: now,
      id_project: FAKE_PROJECT_ID,
      last_update: now,
      ...partial,
    };
    this.issuedSecrets.push(row.secret);
    this.webhooks.set(row.id_webhook_endpoint, row);
    return row;
  }

  findByUrl(url: string): FakeWebhook[] {
    return [...this.webhooks.values()].filter((row) => row.url === url);
  }

  private addRule(options: RuleOptions, rule: Omit<Rule, 'times' | 'route'>): this {
    this.rules.push({ route: options.route, times: options.times ?? 1, ...rule });
    return this;
  }

  private takeRule(method: string, path: string): Rule | undefined {
    const rule = this.rules.find((r) => r.times > 0 && (!r.route || `${method} ${path}`.startsWith(r.route)));
    if (rule) rule.times--;
    return rule;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = new URL(url, 'http://fake').pathname;
    this.requests.push({ method, path, url, headers: req.headers, body });
    res.on('error', () => undefined);

    // Panora's throttler is a global guard: it answers before anything else.
    const throttled = this.throttler?.hit(url);
    if (throttled) return this.send(res, 429, throttled.body, throttled.headers);
    const rule = this.takeRule(method, path);
    if (rule?.respond) return this.send(res, rule.respond.status, rule.respond.body, rule.respond.headers);
    let answer: Answer;
    let copies = rule?.copies ?? 1;
    if (this.reads.serves(method, path)) {
      answer = this.reads.answer(path, url, req.headers);
      copies = 1;
    } else if (req.headers['x-api-key'] === this.apiKey) {
      answer = this.route(method, path, body);
    } else {
      answer = { status: 401, body: { statusCode: 401, message: 'Unauthorized' } };
      copies = 1;
    }
    for (let copy = 1; copy < copies; copy++) this.route(method, path, body);
    if (rule?.gate) {
      rule.gate.arrive();
      await rule.gate.released;
    }
    if (rule?.hang) return;
    if (rule?.afterActing) return this.send(res, rule.afterActing.status, rule.afterActing.body);
    if (rule?.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    const text = rule?.replaceBody ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    this.send(res, answer.status, text);
  }

  private send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(text);
  }

  private route(method: string, path: string, body: unknown): Answer {
    const notFound = (message = `Cannot ${method} ${path}`): Answer => ({
      status: 404,
      body: { statusCode: 404, message },
    });
    const webhook = /^\/webhooks\/([^/]+)$/.exec(path);
    const input = (body ?? {}) as Record<string, unknown>;
    if (method === 'POST' && path === '/webhooks') {
      const problems: string[] = [];
      if (typeof input.url !== 'string') problems.push('url must be a string');
      if (!Array.isArray(input.scope) || input.scope.some((s) => typeof s !== 'string'))
        problems.push('scope must be an array of strings');
      if (problems.length > 0) return { status: 400, body: { statusCode: 400, message: problems } };
      const row = this.addWebhook({
        url: input.url as string,
        scope: input.scope as string[],
        endpoint_description: typeof input.description === 'string' ? input.description : null,
      });
      return { status: 201, body: row };
    }
    if (method === 'GET' && path === '/webhooks') return { status: 200, body: [...this.webhooks.values()] };
    if (webhook && method === 'PUT') {
      const row = this.webhooks.get(decodeURIComponent(webhook[1]));
      if (!row) return notFound('Webhook endpoint not found');
      if (typeof input.active !== 'boolean') {
        return { status: 400, body: { statusCode: 400, message: ['active must be a boolean value'] } };
      }
      row.active = input.active;
      row.last_update = new Date().toISOString();
      return { status: 200, body: row };
    }
    if (webhook && method === 'DELETE') {
      const id = decodeURIComponent(webhook[1]);
      const row = this.webhooks.get(id);
      if (!row) return notFound('Webhook endpoint not found');
      this.webhooks.delete(id);
      return { status: 200, body: row };
    }
    if (method === 'GET' && path === '/connections') return { status: 200, body: this.connections };
    const linkedUser = /^\/linked_users\/([^/]+)$/.exec(path);
    if (linkedUser && method === 'GET') {
      const row = this.linkedUsers.get(decodeURIComponent(linkedUser[1]));
      return row ? { status: 200, body: row } : notFound('Linked user not found');
    }
    return notFound();
  }
}
