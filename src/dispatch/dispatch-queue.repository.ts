import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { dispatchConfig, type DispatchConfig } from './dispatch.config';

export interface ClaimedRow {
  id: string;
  endpoint_id: string;
  id_event: string;
  type: string;
  normalized_type: string;
  payload: unknown;
  /** Since the event was received, replays included. */
  attempts: number;
  /** `attempts` at the last replay: the retry budget and the backoff count from here. */
  attempts_at_replay: number;
  /** This claim's token (a fresh UUID): the event is ours while it is 'processing' under it. */
  claim_id: string;
  received_at: Date;
  done: string[] | null;
  /** The receive span's W3C traceparent, stored while tracing was on; null otherwise. */
  traceparent?: string | null;
}

/** A claimed event: ours while its status is 'processing' and its claim_id still the claim's. */
export interface Claim {
  id: string;
  claimId: string;
}

export interface AbandonedRow {
  id: string;
  normalized_type: string;
  attempts: number;
  received_at: Date;
}

/** What is stored of an event's outcome: its new status, and each listener's. */
export interface OutcomeRecord {
  row: Pick<ClaimedRow, 'id' | 'claim_id' | 'attempts'>;
  status: 'processed' | 'failed' | 'dead';
  delayMs: number;
  lastError: string | null;
  listeners: { name: string; status: string; error: string | null }[];
}

/** Processed on the first claim since it was received: nothing failed before, nothing failed now. */
function isWholeFirstSuccess(outcome: OutcomeRecord): boolean {
  return outcome.status === 'processed' && outcome.row.attempts === 1;
}

/** Shown on an event given up at claim time: its last attempt never recorded an outcome. */
const STOPPED_WHILE_HANDLING =
  'The process stopped while handling this event: its last attempt (WEBHOOK_MAX_ATTEMPTS reached) never recorded ' +
  'an outcome (a crash or an out-of-memory kill, e.g. on a huge payload); fix the cause, then replay it';

/**
 * The dispatch queue's SQL on webhook_events and webhook_event_listeners: the inbox row is the
 * job. Claims (`FOR UPDATE SKIP LOCKED`, a lease of DISPATCH_LEASE_MS), lease renewals and
 * outcomes all match on the claim's own token (`claim_id`, a fresh UUID), so a dispatcher that
 * lost its lease (taken over, or replayed and claimed again) never renews or overwrites the claim
 * of the one that holds the event now.
 */
@Injectable()
export class DispatchQueueRepository {
  private readonly maxAttempts: number;
  private readonly batchSize: number;
  private readonly batchBytes: number;
  /** How long a claimed event stays hidden from other dispatchers (a crash mid-run gives it back). */
  private readonly leaseMs: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @dispatchConfig.inject() config: DispatchConfig,
  ) {
    this.maxAttempts = config.maxAttempts;
    this.batchSize = config.batchSize;
    this.batchBytes = config.batchBytes;
    this.leaseMs = config.leaseMs;
  }

  /**
   * The dispatcher's own bookkeeping (claims, outcomes) commits without waiting for the WAL flush:
   * losing it in a crash only means an event is handed to its listeners again, which at-least-once
   * delivery allows; WAL order keeps it from outliving the listeners' own (synchronous) commits.
   * The receiver's inserts are unaffected: every 2xx still follows a flushed commit.
   */
  private bookkeeping<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL synchronous_commit = off');
      return work(manager);
    });
  }

  /**
   * Takes up to DISPATCH_BATCH_SIZE due events, and no more than DISPATCH_BATCH_BYTES of stored
   * payload (at least one event): a round of `*.pulled` events of megabytes each must not all sit
   * in memory at once. Candidates are locked first, sizes read without loading the payloads, and
   * only the chosen ones are claimed; the others are released at commit, untouched.
   *
   * A candidate still 'processing' (its lease ran out) whose attempts already reached
   * WEBHOOK_MAX_ATTEMPTS: its last attempt never recorded an outcome, most likely because it takes
   * the process down. It is marked dead instead of being handed out again, on every instance, forever.
   */
  claim(): Promise<{ rows: ClaimedRow[]; more: boolean; abandoned: AbandonedRow[] }> {
    return this.bookkeeping(async (manager) => {
      const candidates = await manager.query<{ id: string; size: number; abandoned: boolean }[]>(
        `SELECT id, coalesce(pg_column_size(payload), 0) AS size,
                (status = 'processing' AND attempts - attempts_at_replay >= $2) AS abandoned
           FROM webhook_events
          WHERE status IN ('received', 'processing', 'failed') AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.batchSize, this.maxAttempts],
      );
      const abandonedIds = candidates.filter((c) => c.abandoned).map((c) => c.id);
      let abandoned: AbandonedRow[] = [];
      if (abandonedIds.length > 0) {
        [abandoned] = await manager.query<[AbandonedRow[], number]>(
          `UPDATE webhook_events SET status = 'dead', last_error = $2, next_attempt_at = now(), claim_id = NULL
            WHERE id = ANY($1::bigint[])
            RETURNING id, normalized_type, attempts, received_at`,
          [abandonedIds, STOPPED_WHILE_HANDLING],
        );
      }
      const chosen: string[] = [];
      let bytes = 0;
      for (const candidate of candidates) {
        if (candidate.abandoned) continue;
        if (chosen.length > 0 && bytes + candidate.size > this.batchBytes) break;
        chosen.push(candidate.id);
        bytes += candidate.size;
      }
      const more = candidates.length === this.batchSize || chosen.length + abandonedIds.length < candidates.length;
      if (chosen.length === 0) return { rows: [], more: more || abandonedIds.length > 0, abandoned };
      // TypeORM answers an UPDATE with [rows, count].
      const [rows] = await manager.query<[ClaimedRow[], number]>(
        `UPDATE webhook_events e
            SET status = 'processing', attempts = e.attempts + 1, claim_id = gen_random_uuid(),
                next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE e.id = ANY($1::bigint[])
          RETURNING e.id, e.endpoint_id, e.id_event, e.type, e.normalized_type, e.payload, e.attempts,
                    e.attempts_at_replay, e.claim_id, e.received_at, e.traceparent,
                    -- A first claim has no listener rows yet: no lookup.
                    array_cat(e.listeners_succeeded, CASE WHEN e.attempts > 1 THEN
                      (SELECT array_agg(l.listener) FROM webhook_event_listeners l
                        WHERE l.event_id = e.id AND l.status = 'succeeded') END) AS done`,
        [chosen, this.leaseMs],
      );
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      return { rows, more, abandoned };
    });
  }

  /** Extends the lease of the claims still ours (one UPDATE); answers the ids it kept. */
  async renewLeases(claims: Claim[]): Promise<{ id: string }[]> {
    const [kept] = await this.bookkeeping((manager) =>
      manager.query<[{ id: string }[], number]>(
        `UPDATE webhook_events e
                SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
               FROM unnest($1::bigint[], $2::uuid[]) AS c(id, claim_id)
              WHERE e.id = c.id AND e.status = 'processing' AND e.claim_id = c.claim_id
              RETURNING e.id`,
        [claims.map((c) => c.id), claims.map((c) => c.claimId), this.leaseMs],
      ),
    );
    return kept;
  }

  /**
   * Stores the outcomes of a round, per event and per listener, in one transaction, for the
   * events still ours ('processing' under our claim_id); answers those. An event whose
   * lease ran out and that another dispatcher claimed (or an admin replayed) is left alone, with
   * its listener outcomes: what that dispatcher records is the truth.
   *
   * A first attempt that succeeded whole (the common case) keeps its listeners' names on the event
   * row (`listeners_succeeded`) and writes no listener rows: a row per listener, its index entry
   * and the foreign-key lock on the event cost a third of an event's writes and said only
   * "succeeded once". Any other outcome writes a row per listener that ran, as their history.
   */
  recordOutcomes<T extends OutcomeRecord>(outcomes: T[]): Promise<T[]> {
    return this.bookkeeping(async (manager) => {
      const inline = (o: OutcomeRecord) => isWholeFirstSuccess(o);
      const [updated] = await manager.query<[{ id: string }[], number]>(
        `UPDATE webhook_events e
            SET status = u.status, last_error = u.error, claim_id = NULL,
                processed_at = CASE WHEN u.status = 'processed' THEN now() ELSE e.processed_at END,
                next_attempt_at = now() + make_interval(secs => u.delay_ms / 1000),
                listeners_succeeded = CASE WHEN u.succeeded IS NULL THEN e.listeners_succeeded
                                           ELSE ARRAY(SELECT json_array_elements_text(u.succeeded::json)) END
           FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::double precision[], $6::text[])
                  AS u(id, claim_id, status, error, delay_ms, succeeded)
          WHERE e.id = u.id AND e.status = 'processing' AND e.claim_id = u.claim_id
          RETURNING e.id`,
        [
          outcomes.map((o) => o.row.id),
          outcomes.map((o) => o.row.claim_id),
          outcomes.map((o) => o.status),
          outcomes.map((o) => o.lastError),
          outcomes.map((o) => o.delayMs),
          outcomes.map((o) => (inline(o) ? JSON.stringify(o.listeners.map((l) => l.name)) : null)),
        ],
      );
      const ours = new Set(updated.map((u) => String(u.id)));
      const kept = outcomes.filter((o) => ours.has(String(o.row.id)));
      const listeners = kept
        .filter((o) => !inline(o))
        .flatMap((o) => o.listeners.map((l) => ({ ...l, eventId: o.row.id })));
      if (listeners.length > 0) {
        await manager.query(
          `INSERT INTO webhook_event_listeners (event_id, listener, status, attempts, last_error, updated_at)
           SELECT l.event_id, l.name, l.status, 1, l.error, now()
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS l(event_id, name, status, error)
           ON CONFLICT (event_id, listener) DO UPDATE
             SET status = EXCLUDED.status, attempts = webhook_event_listeners.attempts + 1,
                 last_error = EXCLUDED.last_error, updated_at = now()`,
          [
            listeners.map((l) => l.eventId),
            listeners.map((l) => l.name),
            listeners.map((l) => l.status),
            listeners.map((l) => l.error),
          ],
        );
      }
      return kept;
    });
  }

  /** Milliseconds until the earliest event not yet settled falls due (negative: overdue); null when none. */
  async nextDueInMs(): Promise<number | null> {
    const [next] = await this.dataSource.query<{ ms: number | null }[]>(
      `SELECT extract(epoch FROM (min(next_attempt_at) - now())) * 1000 AS ms
         FROM webhook_events WHERE status IN ('received', 'processing', 'failed')`,
    );
    return next?.ms === null || next?.ms === undefined ? null : Number(next.ms);
  }
}
