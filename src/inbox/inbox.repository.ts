import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { isTracing } from '../platform/tracing';
import type { StreamPosition, StreamRow } from './events/event-stream.types';
import { WebhookEventListener } from './webhook-event-listener.entity';
import { WebhookEvent, type EventStatus } from './webhook-event.entity';

/** PostgreSQL notification channel: every inbox insert notifies it, the dispatchers listen. */
export const INBOX_CHANNEL = 'panora_webhooks_inbox';

/** One accepted delivery, as the group commit stores it. */
export interface InboxRow {
  endpointId: string;
  idEvent: string;
  type: string;
  normalizedType: string;
  /** The payload as JSON text; PostgreSQL parses (and so validates) it into jsonb. */
  payloadJson: string;
  /** SHA-256 of the text Panora signed: a second row with the same hash for the endpoint is a replay. */
  signedHash: Buffer;
  /** The W3C traceparent of the receive span; set only while tracing is on. */
  traceparent?: string | null;
}

/** A row the group commit's insert stored (the others were duplicates). */
export interface InsertedRow {
  endpoint_id: string;
  id_event: string;
}

/** Which events an admin query or a bulk replay is about. */
export interface EventFilter {
  status?: EventStatus;
  /** Matches the type as delivered or, normalised, the type listeners subscribe to. */
  type?: { delivered: string; normalized: string };
  endpointId?: string;
}

/** What a replay of one event did: queued it, or found it pruned or being processed right now. */
export type ReplayOutcome = 'queued' | 'pruned' | 'busy';

/** The inbox's unfinished events by status, and the age of the oldest waiting one. */
export interface InboxBacklog {
  inbox: Record<string, number> | null;
  oldest_s: number | null;
}

// One statement per batch: unnest the columns, skip duplicates (of either unique key: the same
// id_event, or the same signed text re-sent under a new one), tell the dispatchers (PostgreSQL
// delivers identical notifications of one transaction once, at commit).
const INSERT_SQL = `
  WITH ins AS (
    INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, signed_hash)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::bytea[])
    ON CONFLICT DO NOTHING
    RETURNING endpoint_id, id_event
  )
  SELECT ins.endpoint_id, ins.id_event, pg_notify('${INBOX_CHANNEL}', '') FROM ins`;

// The same with each row's traceparent, while tracing is on: off, the statement above is unchanged.
const TRACED_INSERT_SQL = INSERT_SQL.replace('signed_hash)', 'signed_hash, traceparent)').replace(
  '$6::bytea[])',
  '$6::bytea[], $7::text[])',
);

// Scans of the partial indexes (the dispatcher's, and failed/dead): bounded by the backlog, not the inbox.
const BACKLOG_SQL = `
  SELECT
    (SELECT json_object_agg(status, n) FROM (
       SELECT status, count(*)::int AS n FROM webhook_events
        WHERE status IN ('received', 'processing', 'failed', 'dead') GROUP BY status) AS s) AS inbox,
    (SELECT extract(epoch FROM now() - min(received_at))::float8 FROM webhook_events
      WHERE status IN ('received', 'processing', 'failed')) AS oldest_s`;

/**
 * The inbox's SQL on `webhook_events` and `webhook_event_listeners`: the group commit's insert,
 * the admin API's reads and replays, the retention's pruning, the backlog the metrics read and the
 * test event's lookup. The services decide; the dispatch stage has its own queries on these rows
 * (dispatch/dispatch-queue.repository.ts).
 */
@Injectable()
export class InboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores one batch in one statement (a prepared one: parsed once per connection) on a client of
   * TypeORM's pool, released once the statement has committed; answers the rows it inserted.
   * Errors are PostgreSQL's (or the pool's, e.g. a connect timeout), unchanged.
   */
  async insertEvents(rows: readonly InboxRow[]): Promise<InsertedRow[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      const values: unknown[] = [
        rows.map((r) => r.endpointId),
        rows.map((r) => r.idEvent),
        rows.map((r) => r.type),
        rows.map((r) => r.normalizedType),
        rows.map((r) => r.payloadJson),
        rows.map((r) => r.signedHash),
      ];
      const result = isTracing()
        ? await client.query<InsertedRow>({
            name: 'webhook_inbox_insert_traced_v1',
            text: TRACED_INSERT_SQL,
            values: [...values, rows.map((r) => r.traceparent ?? null)],
          })
        : await client.query<InsertedRow>({ name: 'webhook_inbox_insert_v2', text: INSERT_SQL, values });
      return result.rows;
    } finally {
      await runner.release();
    }
  }

  /** A page of events, newest first: `take` of them below `cursor` (an id), without payloads. */
  list(filter: EventFilter & { cursor?: string }, take: number): Promise<WebhookEvent[]> {
    const qb = this.dataSource.getRepository(WebhookEvent).createQueryBuilder('e').orderBy('e.id', 'DESC').take(take);
    if (filter.status) qb.andWhere('e.status = :status', { status: filter.status });
    if (filter.type)
      qb.andWhere('(e.normalized_type = :normalized OR e.type = :type)', {
        normalized: filter.type.normalized,
        type: filter.type.delivered,
      });
    if (filter.endpointId) qb.andWhere('e.endpoint_id = :endpointId', { endpointId: filter.endpointId });
    if (filter.cursor) qb.andWhere('e.id < :cursor', { cursor: filter.cursor });
    qb.select([
      'e.id',
      'e.endpointId',
      'e.idEvent',
      'e.type',
      'e.normalizedType',
      'e.status',
      'e.attempts',
      'e.receivedAt',
      'e.processedAt',
      'e.nextAttemptAt',
      'e.lastError',
    ]);
    return qb.getMany();
  }

  /** The event with its payload; null for an unknown or malformed id. */
  async find(id: string): Promise<WebhookEvent | null> {
    return /^\d{1,19}$/.test(id) ? this.dataSource.getRepository(WebhookEvent).findOne({ where: { id } }) : null;
  }

  /**
   * The event's listeners, by name: their rows, and those a first attempt that succeeded whole
   * recorded on the event itself (`listeners_succeeded`: one attempt, succeeded, at processed_at).
   */
  async listeners(
    event: Pick<WebhookEvent, 'id' | 'listenersSucceeded' | 'processedAt' | 'receivedAt'>,
  ): Promise<WebhookEventListener[]> {
    const rows = await this.dataSource
      .getRepository(WebhookEventListener)
      .find({ where: { eventId: event.id }, order: { listener: 'ASC' } });
    const named = new Set(rows.map((row) => row.listener));
    for (const listener of event.listenersSucceeded ?? []) {
      if (named.has(listener)) continue;
      rows.push(
        Object.assign(new WebhookEventListener(), {
          eventId: event.id,
          listener,
          status: 'succeeded' as const,
          attempts: 1,
          lastError: null,
          updatedAt: event.processedAt ?? event.receivedAt,
        }),
      );
    }
    return rows.sort((a, b) => (a.listener < b.listener ? -1 : a.listener > b.listener ? 1 : 0));
  }

  /**
   * Queues the event again, in one transaction: not one being processed right now, nor one whose
   * payload was pruned. With `all`, the listeners that succeeded are marked failed (`note` as
   * their last error), so every listener runs again; rows are kept and counts go on.
   */
  replay(id: string, all: boolean, note: string): Promise<ReplayOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const [updated]: [unknown[], number] = await manager.query(
        `UPDATE webhook_events
            SET status = 'received', attempts_at_replay = attempts, claim_id = NULL, next_attempt_at = now(),
                last_error = NULL, processed_at = NULL
          WHERE id = $1 AND payload IS NOT NULL AND NOT (status = 'processing' AND next_attempt_at > now()) RETURNING id`,
        [id],
      );
      if (updated.length === 0) {
        const [row] = await manager.query<{ pruned: boolean }[]>(
          'SELECT payload IS NULL AS pruned FROM webhook_events WHERE id = $1',
          [id],
        );
        return row?.pruned ? 'pruned' : 'busy';
      }
      if (all) {
        // Listeners recorded on the event row get a row of their own, so their counts go on too.
        await manager.query(
          `INSERT INTO webhook_event_listeners (event_id, listener, status, attempts, last_error, updated_at)
           SELECT e.id, l.name, 'succeeded', 1, NULL, coalesce(e.processed_at, now())
             FROM webhook_events e, unnest(e.listeners_succeeded) AS l(name)
            WHERE e.id = $1
           ON CONFLICT (event_id, listener) DO NOTHING`,
          [id],
        );
        await manager.query(`UPDATE webhook_events SET listeners_succeeded = NULL WHERE id = $1`, [id]);
        await manager.query(
          `UPDATE webhook_event_listeners SET status = 'failed', last_error = $2, updated_at = now()
            WHERE event_id = $1 AND status = 'succeeded'`,
          [id, note],
        );
      }
      return 'queued';
    });
  }

  /**
   * Queues every matching event whose payload is kept, in one statement; the pruned ones are
   * counted as skipped. `since`/`until` bound received_at (until excluded). With `dryRun`, counts
   * the same way and changes nothing. Answers the ids it queued.
   */
  async replayMany(
    filter: EventFilter & { status: 'dead' | 'failed'; since?: Date; until?: Date; dryRun?: boolean },
  ): Promise<{ queued: number; skipped: number; ids: string[] }> {
    const params: unknown[] = [];
    let where = whereOf(filter, params);
    if (filter.since) where += ` AND received_at >= $${params.push(filter.since)}`;
    if (filter.until) where += ` AND received_at < $${params.push(filter.until)}`;
    if (filter.dryRun) {
      const [counts] = await this.dataSource.query<{ queued: number; skipped: number }[]>(
        `SELECT count(*) FILTER (WHERE payload IS NOT NULL)::int AS queued,
                count(*) FILTER (WHERE payload IS NULL)::int AS skipped
           FROM webhook_events WHERE ${where}`,
        params,
      );
      return { ...counts, ids: [] };
    }
    const [counts] = await this.dataSource.query<{ ids: string[]; skipped: number }[]>(
      `WITH matching AS (SELECT id, payload IS NULL AS pruned FROM webhook_events WHERE ${where}),
            queued AS (
              UPDATE webhook_events
                 SET status = 'received', attempts_at_replay = attempts, claim_id = NULL, next_attempt_at = now(),
                     last_error = NULL
               WHERE id IN (SELECT id FROM matching WHERE NOT pruned) AND payload IS NOT NULL AND ${where}
               RETURNING id)
       SELECT (SELECT coalesce(array_agg(id::text ORDER BY id), '{}') FROM queued) AS ids,
              (SELECT count(*) FROM matching WHERE pruned)::int AS skipped`,
      params,
    );
    return { queued: counts.ids.length, skipped: counts.skipped, ids: counts.ids };
  }

  /**
   * The event stream's horizon: every transaction below it has ended, so no row can appear at a
   * position before (horizon, 0) any more (migrations/1795400001200-EventStreamPosition.ts).
   */
  async streamHorizon(): Promise<StreamPosition> {
    const [row] = await this.dataSource.query<{ xmin: string }[]>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
    );
    return { xid: BigInt(row.xmin), id: 0n };
  }

  /** Up to `limit` events at stream positions after `after`, up to `upTo` included, in order. */
  streamChanges(after: StreamPosition, upTo: StreamPosition, limit: number, filter: EventFilter): Promise<StreamRow[]> {
    const params: unknown[] = [after.xid.toString(), after.id.toString(), upTo.xid.toString(), upTo.id.toString()];
    const where = whereOf(filter, params);
    // Ordered by the bigint columns (e.…), not the text ones the select names alike.
    return this.dataSource.query<StreamRow[]>(
      `SELECT e.status_xid::text AS "statusXid", e.id::text AS id, endpoint_id AS "endpointId", id_event AS "idEvent",
              type, normalized_type AS "normalizedType", status, attempts, received_at AS "receivedAt",
              processed_at AS "processedAt", next_attempt_at AS "nextAttemptAt", last_error AS "lastError"
         FROM webhook_events e
        WHERE (e.status_xid, e.id) > ($1::bigint, $2::bigint) AND (e.status_xid, e.id) <= ($3::bigint, $4::bigint)
          AND ${where}
        ORDER BY e.status_xid, e.id LIMIT $${params.push(limit)}`,
      params,
    );
  }

  /** Drops the payloads of up to `limit` events processed more than `days` ago; answers how many. */
  async prunePayloads(days: number, limit: number): Promise<number> {
    const [, count]: [unknown[], number] = await this.dataSource.query(
      `UPDATE webhook_events SET payload = NULL
        WHERE id IN (SELECT id FROM webhook_events
                      WHERE status = 'processed' AND payload IS NOT NULL
                        AND processed_at < now() - make_interval(days => $1)
                      LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [days, limit],
    );
    return count;
  }

  /** The backlog the inbox's gauges show (the whole database's). */
  async backlog(): Promise<InboxBacklog> {
    return (await this.dataSource.query<InboxBacklog[]>(BACKLOG_SQL))[0];
  }

  /**
   * Which of these Panora `id_event`s the inbox holds a delivery of, whatever the endpoint (Panora
   * delivers an event to one matching endpoint only). For recovery: the rest were never received.
   */
  async heldEventIds(idEvents: readonly string[]): Promise<Set<string>> {
    if (idEvents.length === 0) return new Set();
    const rows = await this.dataSource.query<{ id_event: string }[]>(
      'SELECT DISTINCT id_event FROM webhook_events WHERE id_event = ANY($1::text[])',
      [idEvents],
    );
    return new Set(rows.map((row) => row.id_event));
  }

  /** The stored event of a delivery, by the endpoint and Panora's `id_event`. */
  async findDelivery(endpointId: string, idEvent: string): Promise<{ id: string; status: EventStatus } | undefined> {
    const [row] = await this.dataSource.query<{ id: string; status: EventStatus }[]>(
      'SELECT id::text AS id, status FROM webhook_events WHERE endpoint_id = $1 AND id_event = $2',
      [endpointId, idEvent],
    );
    return row;
  }
}

/** The SQL condition of a filter, its values appended to `params` (`true` for no filter). */
function whereOf(filter: EventFilter, params: unknown[]): string {
  const parts = ['true'];
  if (filter.status) parts.push(`status = $${params.push(filter.status)}`);
  if (filter.type) {
    parts.push(
      `(normalized_type = $${params.push(filter.type.normalized)} OR type = $${params.push(filter.type.delivered)})`,
    );
  }
  if (filter.endpointId) parts.push(`endpoint_id = $${params.push(filter.endpointId)}`);
  return parts.join(' AND ');
}
