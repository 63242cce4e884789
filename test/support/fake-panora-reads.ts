import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The read routes of the fake Panora that recovery relies on, as Panora's code serves them
 * (/tmp/helpers/panora-recovery-facts.md §0–§2, panoratech/Panora c6741e9): `GET /events` and the
 * unified CRM lists `GET /crm/{contacts,companies,deals,engagements,notes,tasks,stages,users}`.
 * Used through FakePanora (fake-panora.ts), which owns the server, the switches and the requests.
 */

/** A row of Panora's `events` table, as `GET /events` returns it. */
export interface FakeEventRow {
  id_event: string;
  id_connection: string | null;
  id_project: string;
  type: string;
  status: string;
  direction: string;
  method: string;
  url: string;
  provider: string | null;
  timestamp: string;
  id_linked_user: string | null;
}

export interface RecordEventInput {
  type: string;
  id_connection: string | null;
  /** Default: now (strictly after the previous default, so that insertion order is time order). */
  timestamp?: string | Date;
  /** Default: `SYNC` for `*.pulled`, `POST` for `*.created` / `*.push`, `GET` otherwise. */
  method?: string;
  /** Default: `/sync`, `/crm/<kind>s`, `/oauth2/callback` (connection.created), or ''. */
  url?: string;
  provider?: string | null;
  status?: string;
  /** Default: FAKE_LINKED_USER_ID. Panora's `/events` never shows a row whose linked user is null. */
  id_linked_user?: string | null;
}

export const FAKE_LINKED_USER_ID = 'b4b0fb2e-0c4d-4c1f-9c53-9a8f1b1f0002';

/** The CRM kinds with a unified list, and their route. */
export const FAKE_CRM_LISTS = {
  contact: 'contacts',
  company: 'companies',
  deal: 'deals',
  engagement: 'engagements',
  note: 'notes',
  task: 'tasks',
  stage: 'stages',
  user: 'users',
} as const;
export type FakeCrmKind = keyof typeof FAKE_CRM_LISTS;

/** A unified object as `GET /crm/<kind>s` returns it: `id` (the unified id) and whatever else the test put. */
export type FakeUnifiedObject = Record<string, unknown> & { id: string; created_at: string; modified_at: string };

export interface ReadAnswer {
  status: number;
  body: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KIND_OF_ROUTE = new Map<string, FakeCrmKind>(
  Object.entries(FAKE_CRM_LISTS).map(([kind, plural]) => [plural, kind as FakeCrmKind]),
);

export class FakePanoraReads {
  /** Panora's `events` rows, in insertion order (served newest first). */
  readonly events: FakeEventRow[] = [];
  /** Unified objects by connection token, then kind. */
  readonly unified = new Map<string, Map<FakeCrmKind, FakeUnifiedObject[]>>();
  private lastDefaultTime = 0;

  constructor(
    private readonly apiKey: string,
    private readonly projectId: string,
    /** The fake's connection rows (`GET /connections`), to know tokens and their connections. */
    private readonly connections: Record<string, unknown>[],
  ) {}

  /** True for the routes this class answers. */
  serves(method: string, path: string): boolean {
    if (method !== 'GET') return false;
    if (path === '/events') return true;
    const list = /^\/crm\/([a-z]+)$/.exec(path);
    return !!list && KIND_OF_ROUTE.has(list[1]);
  }

  /** An event row "written by Panora", with a fresh id_event. */
  recordEvent(input: RecordEventInput): FakeEventRow {
    const { type } = input;
    const crm = /^crm\.([a-z]+)\./.exec(type);
    const listPath = crm && crm[1] in FAKE_CRM_LISTS ? `/crm/${FAKE_CRM_LISTS[crm[1] as FakeCrmKind]}` : '';
    let method = 'GET';
    let url = '';
    if (type.endsWith('.pulled')) [method, url] = ['SYNC', '/sync'];
    else if (type.endsWith('.created') || type.endsWith('.push')) [method, url] = ['POST', listPath];
    if (type === 'connection.created') [method, url] = ['GET', '/oauth2/callback'];
    const row: FakeEventRow = {
      id_event: randomUUID(),
      id_connection: input.id_connection,
      id_project: this.projectId,
      type,
      status: input.status ?? 'success',
      direction: '0',
      method: input.method ?? method,
      url: input.url ?? url,
      provider: input.provider === undefined ? 'hubspot' : input.provider,
      timestamp: input.timestamp === undefined ? this.now() : new Date(input.timestamp).toISOString(),
      id_linked_user: input.id_linked_user === undefined ? FAKE_LINKED_USER_ID : input.id_linked_user,
    };
    this.events.push(row);
    return row;
  }

  /**
   * Puts unified objects of `kind` for the connection whose token is `connectionToken` (an object
   * with the `id` of a stored one replaces it). Missing `id`, `remote_id`, `created_at`,
   * `modified_at` and `field_mappings` are filled in. Returns the stored objects.
   */
  putUnified(
    connectionToken: string,
    kind: FakeCrmKind,
    objects: readonly Record<string, unknown>[],
  ): FakeUnifiedObject[] {
    let kinds = this.unified.get(connectionToken);
    if (!kinds) this.unified.set(connectionToken, (kinds = new Map()));
    const rows = kinds.get(kind) ?? [];
    kinds.set(kind, rows);
    return objects.map((object) => {
      const at = this.now();
      const row = {
        id: randomUUID(),
        remote_id: `remote-${randomUUID().slice(0, 8)}`,
        created_at: at,
        modified_at: at,
        ...(kind === 'task' ? {} : { field_mappings: {} }),
        ...object,
      } as FakeUnifiedObject;
      const index = rows.findIndex((existing) => existing.id === row.id);
      if (index >= 0) rows[index] = row;
      else rows.push(row);
      return row;
    });
  }

  /** Answers a route `serves` said yes to. `url` is the path with its query, as sent. */
  answer(path: string, url: string, headers: IncomingHttpHeaders): ReadAnswer {
    const query = new URL(url, 'http://fake').searchParams;
    const error = (status: number, message: string): ReadAnswer => ({
      status,
      body: { statusCode: status, timestamp: new Date().toISOString(), path: url, message },
    });
    // ApiKeyAuthGuard (passport-headerapikey): no header fails (401); an unknown key makes
    // AuthService.validateApiKey throw, which the global filter answers 500.
    const key = headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) return error(401, 'Unauthorized');
    if (key !== this.apiKey) return error(500, 'API Key not found.');
    if (path === '/events') return this.listEvents(query, error);
    return this.listUnified(KIND_OF_ROUTE.get(path.slice('/crm/'.length))!, query, headers, error);
  }

  /** `GET /events`: `page` and `limit` positive numbers (defaults 1 and 10), newest first, a bare array. */
  private listEvents(query: URLSearchParams, error: (status: number, message: string) => ReadAnswer): ReadAnswer {
    const page = positive(query.getAll('page'), 1);
    const limit = positive(query.getAll('limit'), 10);
    if (page === null || limit === null) return error(400, 'Bad Request Exception');
    if (!Number.isInteger(page) || !Number.isInteger(limit)) {
      return error(500, 'Invalid `this.prisma.events.findMany()` invocation: expected Int, provided Float');
    }
    const rows = this.events
      .filter((row) => row.id_project === this.projectId && row.id_linked_user !== null)
      .sort((a, b) => b.timestamp.localeCompare(a.timestamp) || a.id_event.localeCompare(b.id_event));
    return { status: 200, body: rows.slice((page - 1) * limit, page * limit) };
  }

  /**
   * `GET /crm/<kind>s`: `take: limit + 1` from the cursor row (inclusive), `created_at asc`
   * (companies `modified_at asc`), then the id; `next_cursor` names the first row of the next page.
   */
  private listUnified(
    kind: FakeCrmKind,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    error: (status: number, message: string) => ReadAnswer,
  ): ReadAnswer {
    const limits = query.getAll('limit');
    const limit = limits.length === 0 ? 50 : limits.length === 1 ? Number(limits[0]) : NaN;
    let cursorId: string | null = null;
    const cursors = query.getAll('cursor');
    if (cursors.length > 0) {
      cursorId = cursors.length === 1 ? Buffer.from(cursors[0], 'base64').toString() : '';
      if (!UUID.test(cursorId)) return error(400, 'Bad Request Exception');
    }
    if (!Number.isFinite(limit)) return error(400, 'Bad Request Exception');
    // Controllers rethrow the service's ReferenceError as `new Error(error)`.
    const header = headers['x-connection-token'];
    const token = typeof header === 'string' ? header : this.anyToken();
    if (token === undefined || !this.knows(token)) {
      return error(500, `ReferenceError: Connection undefined for token ${token}`);
    }
    const order = kind === 'company' ? 'modified_at' : 'created_at';
    const rows = [...(this.unified.get(token)?.get(kind) ?? [])].sort(
      (a, b) => a[order].localeCompare(b[order]) || a.id.localeCompare(b.id),
    );
    const start = cursorId === null ? 0 : rows.findIndex((row) => row.id === cursorId);
    if (start < 0) {
      const prefix = kind === 'contact' || kind === 'deal' ? 'ReferenceError: ' : '';
      return error(500, `${prefix}The provided cursor does not exist!`);
    }
    if (!Number.isInteger(limit)) return error(500, 'Invalid `take`: expected Int, provided Float');
    const take = limit + 1;
    // A take of 0 or less (limit ≤ -1) is a backward page in Prisma; nothing here relies on it.
    const page = take > 0 ? rows.slice(start, start + take) : [];
    let nextCursor: string | null = null;
    if (take > 0 && page.length === take) nextCursor = base64(page.pop()!.id);
    const remoteData = query.get('remote_data') === 'true';
    const connection = this.connectionOf(token);
    this.recordEvent({
      type: kind === 'contact' ? 'crm.contact.pull' : `crm.${kind}.pulled`,
      id_connection: typeof connection?.id_connection === 'string' ? connection.id_connection : null,
      method: 'GET',
      url: `/crm/${FAKE_CRM_LISTS[kind]}`,
      provider: typeof connection?.provider_slug === 'string' ? connection.provider_slug : null,
      id_linked_user: typeof connection?.id_linked_user === 'string' ? connection.id_linked_user : undefined,
    });
    return {
      status: 200,
      body: {
        prev_cursor: cursorId === null ? null : base64(cursorId),
        next_cursor: nextCursor,
        data: page.map(({ remote_data, ...row }) => (remoteData ? { ...row, remote_data } : row)),
      },
    };
  }

  private connectionOf(token: string): Record<string, unknown> | undefined {
    return this.connections.find((row) => row.connection_token === token);
  }

  private knows(token: string): boolean {
    return !!this.connectionOf(token) || this.unified.has(token);
  }

  /**
   * Without the header, Panora's `findFirst({where: {connection_token: undefined}})` has no filter:
   * it answers with *some* connection's data. So does this fake (the first one it knows).
   */
  private anyToken(): string | undefined {
    const row = this.connections.find((connection) => typeof connection.connection_token === 'string');
    return (row?.connection_token as string | undefined) ?? [...this.unified.keys()][0];
  }

  private now(): string {
    this.lastDefaultTime = Math.max(Date.now(), this.lastDefaultTime + 1);
    return new Date(this.lastDefaultTime).toISOString();
  }
}

function base64(id: string): string {
  return Buffer.from(id).toString('base64');
}

/** A query number as Panora's pipe reads it (`@IsNumber() @IsPositive()`, implicit conversion): null when refused. */
function positive(values: string[], fallback: number): number | null {
  if (values.length === 0) return fallback;
  const value = values.length === 1 ? Number(values[0]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : null;
}
