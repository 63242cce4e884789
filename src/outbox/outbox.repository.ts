import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { CLAIM_LOCK_SPACE, ENQUEUE_LOCK_SPACE, OUTBOX_CHANNEL } from './outbox.constants';
import { outboxConfig, type OutboxConfig } from './outbox.config';
import type { OutboxRow } from './envelope';

/** Consecutive rows of one key published per round (one after the other, each confirmed). */
const ROWS_PER_KEY = 10;
/** Unpublished rows, oldest first, looked at per round to find the keys to publish. */
const WINDOW_FACTOR = 10;

export interface ClaimedRow extends OutboxRow {
  seq: string;
  /** When the row was written (its transaction's time): the start of its publish lag. */
  createdAt: Date;
}

interface ClaimedRecord {
  id: string;
  seq: string;
  type: string;
  entity_key: string;
  source: string;
  payload: unknown;
  occurred_at: Date;
  created_at: Date;
  recovered: boolean;
  traceparent: string | null;
}

/** The outbox's backlog, as its gauges show it. */
export interface OutboxBacklog {
  /** count(*): a bigint, as text. */
  pending: string;
  oldest_s: number | null;
}

// An index scan of the partial index on unpublished rows: bounded by the backlog, not the table.
const BACKLOG_SQL = `
  SELECT
    (SELECT count(*) FROM outbox_messages WHERE published_at IS NULL) AS pending,
    (SELECT extract(epoch FROM now() - occurred_at)::float8 FROM outbox_messages
      WHERE published_at IS NULL ORDER BY seq LIMIT 1) AS oldest_s`;

/**
 * The outbox's SQL on `outbox_messages`: enqueue in the caller's transaction (per-key advisory
 * locks), the relay's claims (`OUTBOX_BATCH_SIZE` rows reserved for `OUTBOX_LEASE_MS` by one relay,
 * per-key advisory locks), marks and releases, the pruning of published rows and the backlog.
 */
@Injectable()
export class OutboxRepository {
  private readonly batchSize: number;
  private readonly leaseMs: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @outboxConfig.inject() config: OutboxConfig,
  ) {
    this.batchSize = config.batchSize;
    this.leaseMs = config.leaseMs;
  }

  /**
   * Inserts the messages (a JSON array of rows, in order) in the caller's transaction, after a
   * per-key lock held until commit, and notifies the relays (delivered at commit, if it commits).
   * A row whose id is already in the outbox is skipped.
   */
  async enqueue(manager: EntityManager, keys: readonly string[], rowsJson: string): Promise<void> {
    // Same-key enqueuers wait for each other until commit, so seq order is commit order per key.
    await manager.query(
      `SELECT pg_advisory_xact_lock($1, hashtext(k)) FROM (SELECT DISTINCT k FROM unnest($2::text[]) AS k ORDER BY k) AS keys`,
      [ENQUEUE_LOCK_SPACE, keys],
    );
    await manager.query(
      `INSERT INTO outbox_messages (id, type, entity_key, source, payload, occurred_at, recovered, traceparent)
       SELECT COALESCE((m->>'id')::uuid, gen_random_uuid()), m->>'type', m->>'key', m->>'source', m->'data',
              (m->>'occurredAt')::timestamptz, COALESCE((m->>'recovered')::boolean, false), m->>'traceparent'
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(m, n)
       ORDER BY n
       ON CONFLICT (id) DO NOTHING`,
      [rowsJson],
    );
    // Delivered to listeners when (and only if) the transaction commits.
    await manager.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
  }

  /**
   * Reserves the next rows for relay `instanceId` (`locked_by`), in a short transaction. Only keys whose oldest unpublished rows are
   * free qualify, and a key's rows are taken from its oldest on, so a key's events never overtake
   * each other, whichever relay publishes them.
   */
  async claim(instanceId: string): Promise<ClaimedRow[]> {
    const { batchSize, leaseMs } = this;
    const records = await this.dataSource.transaction(async (manager) => {
      // The oldest unpublished rows (a prefix in seq order): a key's first row here is its oldest.
      const candidates = await manager.query<{ entity_key: string }[]>(
        `SELECT entity_key FROM (
           SELECT entity_key, seq, locked_until FROM outbox_messages
           WHERE published_at IS NULL ORDER BY seq LIMIT $1
         ) AS window_rows
         GROUP BY entity_key
         HAVING NOT bool_or(locked_until IS NOT NULL AND locked_until > now())
         ORDER BY min(seq)
         LIMIT $2`,
        [batchSize * WINDOW_FACTOR, batchSize],
      );
      if (candidates.length === 0) return [];
      // Keys another relay is claiming right now are skipped this round.
      const locked = await manager.query<{ k: string }[]>(
        `SELECT k FROM unnest($2::text[]) AS k WHERE pg_try_advisory_xact_lock($1, hashtext(k))`,
        [CLAIM_LOCK_SPACE, candidates.map((c) => c.entity_key)],
      );
      if (locked.length === 0) return [];
      // A fresh snapshot (read committed): reservations committed by other relays are seen here.
      const [claimed] = await manager.query<[ClaimedRecord[], number]>(
        `UPDATE outbox_messages AS o
         SET locked_until = now() + make_interval(secs => $3::double precision / 1000),
             locked_by = $2,
             attempts = o.attempts + 1
         FROM (
           -- Each key's oldest rows, unless one of them is reserved; cut to the batch size in
           -- seq order, which keeps every key's rows a prefix of its queue.
           SELECT id FROM (
             SELECT head.id, head.seq,
                    bool_or(head.locked_until IS NOT NULL AND head.locked_until > now())
                      OVER (PARTITION BY keys.k) AS busy
             FROM unnest($1::text[]) AS keys(k)
             CROSS JOIN LATERAL (
               SELECT id, seq, locked_until FROM outbox_messages
               WHERE published_at IS NULL AND entity_key = keys.k
               ORDER BY seq LIMIT $4
             ) AS head
           ) AS runs
           WHERE NOT busy
           ORDER BY seq
           LIMIT $5
         ) AS c
         WHERE o.id = c.id AND o.published_at IS NULL
         RETURNING o.id, o.seq, o.type, o.entity_key, o.source, o.payload, o.occurred_at, o.created_at, o.recovered,
                   o.traceparent`,
        [locked.map((l) => l.k), instanceId, leaseMs, ROWS_PER_KEY, batchSize],
      );
      return claimed;
    });
    return records
      .map((r) => ({
        id: r.id,
        seq: String(r.seq),
        type: r.type,
        entityKey: r.entity_key,
        source: r.source,
        payload: r.payload,
        occurredAt: new Date(r.occurred_at),
        createdAt: new Date(r.created_at),
        recovered: r.recovered,
        traceparent: r.traceparent,
      }))
      .sort((a, b) => compareSeq(a.seq, b.seq));
  }

  /** Marks the confirmed rows published and frees their reservation. */
  async markPublished(ids: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE outbox_messages
         SET published_at = now(), locked_until = NULL, locked_by = NULL, last_error = NULL
         WHERE id = ANY($1::uuid[]) AND published_at IS NULL`,
      [ids],
    );
  }

  /** Releases relay `instanceId`'s reservation of rows that were not confirmed, noting why. */
  async release(ids: string[], error: string, instanceId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE outbox_messages SET locked_until = NULL, locked_by = NULL, last_error = $2
         WHERE id = ANY($1::uuid[]) AND locked_by = $3 AND published_at IS NULL`,
      [ids, error, instanceId],
    );
  }

  /** Outbox rows not yet confirmed by the broker. */
  async pending(): Promise<number> {
    const [row] = await this.dataSource.query<{ pending: number }[]>(
      `SELECT count(*)::int AS pending FROM outbox_messages WHERE published_at IS NULL`,
    );
    return row.pending;
  }

  /** Deletes up to `limit` rows published more than `hours` ago; answers how many went. */
  async prunePublished(hours: number, limit: number): Promise<number> {
    const [, deleted] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM outbox_messages WHERE id IN (
         SELECT id FROM outbox_messages
         WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)
         LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [hours, limit],
    );
    return deleted;
  }

  /** The backlog the outbox's gauges show (the whole database's). */
  async backlog(): Promise<OutboxBacklog> {
    return (await this.dataSource.query<OutboxBacklog[]>(BACKLOG_SQL))[0];
  }
}

function compareSeq(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
