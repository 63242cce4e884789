import { z } from 'zod';
import { PanoraApiError } from './panora-api-error';
import type { PanoraHttp } from './panora-http';

/**
 * Panora's read calls that recovery relies on (panora-recovery-facts.md §1–§2): the project's
 * events (`GET /events`, offset pages, newest first) and the unified lists of one connection
 * (`GET /crm/contacts`…, cursor pages). Answers are read liberally: unknown fields are ignored,
 * and a wrapped `{data: [...]}` event page is accepted as well as Panora's bare array.
 */

/** A row of Panora's `events` table, as `GET /events` returns it (metadata only, no payload). */
export interface PanoraEventRow {
  /** The same id the webhook delivery of this event carries. */
  id_event: string;
  /** As delivered (e.g. `crm.company.push`, `crm.contact.pulled`), not normalised. */
  type: string;
  id_connection: string | null;
  status: string | null;
  /** `SYNC` for a `*.pulled` that was dispatched; `GET` for reads (ours included) and connection callbacks. */
  method: string | null;
  url: string | null;
  provider: string | null;
  /** ISO 8601, UTC, milliseconds. */
  timestamp: string;
  id_linked_user: string | null;
}

export interface UnifiedListOptions {
  /** `next_cursor` of the previous page, sent back verbatim; none for the first page. */
  cursor?: string | null;
  /** Objects per page (Panora's default is 50; keep it ≤ 100). */
  limit: number;
}

export interface UnifiedPage {
  /** The page's unified objects, as Panora returns them (unchecked: the caller reads them). */
  data: unknown[];
  /** The cursor of the next page, null on the last one. */
  nextCursor: string | null;
}

/** null for absent, null or empty: an empty id is none (Panora's retry consumer writes `''`). */
const optional = z
  .string()
  .nullish()
  .transform((value) => (value ? value : null));
const when = z.union([z.string(), z.number()]).transform((value, context) => {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    context.addIssue({ code: 'custom', message: 'not a date' });
    return z.NEVER;
  }
  return at.toISOString();
});
const eventSchema = z
  .looseObject({
    id_event: z.string().min(1),
    type: z.string().min(1),
    id_connection: optional,
    status: optional,
    method: optional,
    url: optional,
    provider: optional,
    timestamp: when,
    id_linked_user: optional,
  })
  .transform((row): PanoraEventRow => ({
    id_event: row.id_event,
    type: row.type,
    id_connection: row.id_connection,
    status: row.status,
    method: row.method,
    url: row.url,
    provider: row.provider,
    timestamp: row.timestamp,
    id_linked_user: row.id_linked_user,
  }));
const eventsSchema = z.array(eventSchema);
const unifiedPageSchema = z.looseObject({
  data: z.array(z.unknown()),
  next_cursor: optional,
});

/** `path` as `crm/contacts`: two or more lower-case segments, a leading slash allowed. */
const UNIFIED_PATH = /^\/?([a-z][a-z_]*(?:\/[a-z][a-z_]*)+)$/;
/** What a header value may hold; a token with anything else is refused rather than sent mangled. */
const TOKEN = /^[\x21-\x7e]+$/;

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
}

/** `GET /events?page=&limit=`: page `page` (1-based) of the project's events, newest first; `[]` past the last. */
export async function listEvents(http: PanoraHttp, page: number, limit: number): Promise<PanoraEventRow[]> {
  positiveInteger('page', page);
  positiveInteger('limit', limit);
  const answer = await http.request('GET', '/events', { query: { page, limit }, idempotent: true });
  const body = answer.body;
  // Panora answers a bare array; a future version may wrap it.
  const rows =
    body !== null &&
    typeof body === 'object' &&
    !Array.isArray(body) &&
    Array.isArray((body as { data?: unknown }).data)
      ? (body as { data: unknown[] }).data
      : body;
  return http.parse('GET /events', eventsSchema, { ...answer, body: rows });
}

/**
 * `GET /<path>?limit=&cursor=` with `x-connection-token`: one page of a connection's unified
 * objects (e.g. `crm/contacts`). Without a token, Panora would answer with *some* connection's data,
 * so a missing, empty or unsendable token is refused before any request (`failure: 'no_token'`).
 * The token never appears in an error: `connectionRefused` says Panora did not know it.
 */
export async function listUnified(
  http: PanoraHttp,
  path: string,
  connectionToken: string,
  options: UnifiedListOptions,
): Promise<UnifiedPage> {
  const match = UNIFIED_PATH.exec(path);
  if (!match) throw new RangeError(`Not a unified list path: ${JSON.stringify(path)} (e.g. 'crm/contacts')`);
  positiveInteger('limit', options.limit);
  const route = `GET /${match[1]}`;
  if (typeof connectionToken !== 'string' || !TOKEN.test(connectionToken)) {
    const missing = typeof connectionToken !== 'string' || connectionToken.trim().length === 0;
    throw new PanoraApiError({
      failure: 'no_token',
      route,
      message: `${missing ? 'No connection token' : 'A connection token that is not a valid header value'} for ${route}: not sent, since Panora would answer with another connection's data`,
    });
  }
  const answer = await http.request('GET', `/${match[1]}`, {
    query: { limit: options.limit, cursor: options.cursor || undefined },
    headers: { 'x-connection-token': connectionToken },
    idempotent: true,
    secrets: [connectionToken],
  });
  const page = http.parse(route, unifiedPageSchema, answer);
  return { data: page.data, nextCursor: page.next_cursor };
}
