import { DataSource } from 'typeorm';
import { CLAIM_LOCK_SPACE } from './outbox.constants';
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
}

export interface OutboxRepositoryOptions {
  /** Who reserves the rows (`locked_by`). */
  instanceId: string;
  /** `OUTBOX_BATCH_SIZE`: rows claimed per round at most. */
  batchSize: number;
  /** `OUTBOX_LEASE_MS`: how long a claim reserves its rows. */
  leaseMs: number;
}

/**
 * The relay's SQL on `outbox_messages`: claim a batch (per-key advisory locks), mark rows
 * published, release rows that were not confirmed, count what is pending.
 */
export class OutboxRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutboxRepositoryOptions,
  ) {}

  /**
   * Reserves the next rows, in a short transaction. Only keys whose oldest unpublished rows are
   * free qualify, and a key's rows are taken from its oldest on, so a key's events never overtake
   * each other, whichever relay publishes them.
   */
  async claim(): Promise<ClaimedRow[]> {
    const { batchSize, instanceId, leaseMs } = this.options;
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
         RETURNING o.id, o.seq, o.type, o.entity_key, o.source, o.payload, o.occurred_at, o.created_at`,
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

  /** Releases this relay's reservation of rows that were not confirmed, noting why. */
  async release(ids: string[], error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE outbox_messages SET locked_until = NULL, locked_by = NULL, last_error = $2
         WHERE id = ANY($1::uuid[]) AND locked_by = $3 AND published_at IS NULL`,
      [ids, error, this.options.instanceId],
    );
  }

  /** Outbox rows not yet confirmed by the broker. */
  async pending(): Promise<number> {
    const [row] = await this.dataSource.query<{ pending: number }[]>(
      `SELECT count(*)::int AS pending FROM outbox_messages WHERE published_at IS NULL`,
    );
    return row.pending;
  }
}

function compareSeq(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
