import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export const MISSED_STATUSES = ['pending', 'recovered', 'published', 'given_up', 'arrived_late'] as const;
export type MissedStatus = (typeof MISSED_STATUSES)[number];
/** How a run ended: `partial` when its walk was complete but some recovery failed (left pending). */
export type RunOutcome = 'completed' | 'partial' | 'failed';

/** The one row of `recovery_state`. */
export interface RecoveryStateRow {
  watermark: Date | null;
  last_run_started_at: Date | null;
  last_run_finished_at: Date | null;
  last_run_outcome: RunOutcome | null;
  last_run_error: string | null;
  last_run_counts: Record<string, number> | null;
}

/** A missed event as detection records it. */
export interface NewMissedEvent {
  idEvent: string;
  type: string;
  normalizedType: string;
  idConnection: string | null;
  provider: string | null;
  /** Panora's timestamp of the event (ISO 8601). */
  panoraTimestamp: string;
  endpointId: string;
  reason: string;
}

/** A row of `recovery_missed_events`. */
export interface MissedEventRow {
  id_event: string;
  seq: string;
  type: string;
  normalized_type: string;
  id_connection: string | null;
  provider: string | null;
  panora_timestamp: Date;
  endpoint_id: string | null;
  reason: string;
  status: MissedStatus;
  attempts: number;
  last_error: string | null;
  detected_at: Date;
  settled_at: Date | null;
}

/** Where a re-read of one connection's objects of one kind stands. */
export interface CrmReadRow {
  cursor: string | null;
  started_at: Date;
}

const MISSED_COLUMNS = `id_event, seq::text AS seq, type, normalized_type, id_connection, provider, panora_timestamp,
  endpoint_id, reason, status, attempts, last_error, detected_at, settled_at`;

/**
 * The recovery stage's SQL on `recovery_state`, `recovery_missed_events` and `recovery_crm_reads`,
 * and the advisory lock that keeps recovery to one instance at a time. No transaction here spans a
 * call to Panora: each statement stands alone, or runs in the caller's short transaction.
 */
@Injectable()
export class RecoveryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Runs `work` holding the session-level advisory lock `key`, taken on one pooled connection for
   * the whole run and released with it. `{ locked: false }`, without running `work`, when another
   * session holds it.
   */
  async withSessionLock<T>(
    key: number,
    work: () => Promise<T>,
  ): Promise<{ locked: true; result: T } | { locked: false }> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key])) as {
        locked: boolean;
      }[];
      if (!locked) return { locked: false };
      try {
        return { locked: true, result: await work() };
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    } finally {
      await runner.release();
    }
  }

  async state(): Promise<RecoveryStateRow> {
    const [row] = await this.dataSource.query<RecoveryStateRow[]>(
      `SELECT watermark, last_run_started_at, last_run_finished_at, last_run_outcome, last_run_error, last_run_counts
         FROM recovery_state WHERE id = 1`,
    );
    return row;
  }

  /** A run began: the last run shows as started, not finished yet. */
  async runStarted(startedAt: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE recovery_state SET last_run_started_at = $1, last_run_finished_at = NULL, last_run_outcome = NULL,
              last_run_error = NULL, last_run_counts = NULL, updated_at = now() WHERE id = 1`,
      [startedAt],
    );
  }

  /** A run ended; the watermark moves to `watermark` when one is given (a complete walk), never back. */
  async runFinished(run: {
    outcome: RunOutcome;
    error: string | null;
    counts: Record<string, number>;
    watermark: Date | null;
  }): Promise<void> {
    await this.dataSource.query(
      `UPDATE recovery_state SET last_run_finished_at = now(), last_run_outcome = $1, last_run_error = $2,
              last_run_counts = $3::jsonb, watermark = GREATEST(watermark, $4::timestamptz), updated_at = now()
        WHERE id = 1`,
      [run.outcome, run.error, JSON.stringify(run.counts), run.watermark],
    );
  }

  /** Records missed events; one recorded already is left as it is. Answers the ids it inserted. */
  async recordMissed(events: readonly NewMissedEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = await this.dataSource.query<{ id_event: string }[]>(
      `INSERT INTO recovery_missed_events
              (id_event, type, normalized_type, id_connection, provider, panora_timestamp, endpoint_id, reason)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                            $7::uuid[], $8::text[])
       ON CONFLICT (id_event) DO NOTHING RETURNING id_event`,
      [
        events.map((e) => e.idEvent),
        events.map((e) => e.type),
        events.map((e) => e.normalizedType),
        events.map((e) => e.idConnection),
        events.map((e) => e.provider),
        events.map((e) => e.panoraTimestamp),
        events.map((e) => e.endpointId),
        events.map((e) => e.reason),
      ],
    );
    return rows.map((row) => row.id_event);
  }

  /** The newest `limit` missed events whose delivery has not turned up (any other status). */
  async notArrived(limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id_event: string }[]>(
      `SELECT id_event FROM recovery_missed_events WHERE status <> 'arrived_late' ORDER BY seq DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id_event);
  }

  /** The delivery of these events arrived after all: marked so, nothing else changes. Answers how many. */
  async markArrivedLate(idEvents: readonly string[]): Promise<number> {
    if (idEvents.length === 0) return 0;
    const [, count]: [unknown[], number] = await this.dataSource.query(
      `UPDATE recovery_missed_events SET status = 'arrived_late', settled_at = now()
        WHERE id_event = ANY($1::text[]) AND status <> 'arrived_late'`,
      [idEvents],
    );
    return count;
  }

  /** Missed events waiting for recovery, oldest first. */
  pending(limit: number): Promise<MissedEventRow[]> {
    return this.dataSource.query<MissedEventRow[]>(
      `SELECT ${MISSED_COLUMNS} FROM recovery_missed_events WHERE status = 'pending' ORDER BY seq LIMIT $1`,
      [limit],
    );
  }

  /**
   * Settles pending events: `recovered`, `published` or `given_up` (with `reason` as their last
   * error). In the caller's transaction when `manager` is given. Answers how many changed.
   */
  async settle(
    idEvents: readonly string[],
    status: Exclude<MissedStatus, 'pending' | 'arrived_late'>,
    reason: string | null = null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<number> {
    if (idEvents.length === 0) return 0;
    const [, count]: [unknown[], number] = await manager.query(
      `UPDATE recovery_missed_events
          SET status = $2, settled_at = now(), attempts = attempts + 1, last_error = COALESCE($3, last_error)
        WHERE id_event = ANY($1::text[]) AND status = 'pending'`,
      [idEvents, status, reason],
    );
    return count;
  }

  /** A recovery attempt failed; the events stay pending for the next run. */
  async attemptFailed(idEvents: readonly string[], error: string): Promise<void> {
    if (idEvents.length === 0) return;
    await this.dataSource.query(
      `UPDATE recovery_missed_events SET attempts = attempts + 1, last_error = $2
        WHERE id_event = ANY($1::text[]) AND status = 'pending'`,
      [idEvents, error],
    );
  }

  /**
   * Starts the re-read of a connection's objects of `kind`, or resumes the one a crash or an
   * error interrupted (its cursor kept). Answers where to start and since when the read runs.
   */
  async beginRead(idConnection: string, kind: string): Promise<CrmReadRow> {
    const [row] = await this.dataSource.query<CrmReadRow[]>(
      `INSERT INTO recovery_crm_reads (id_connection, kind, cursor, status) VALUES ($1, $2, NULL, 'running')
       ON CONFLICT (id_connection, kind) DO UPDATE SET
         cursor = CASE WHEN recovery_crm_reads.status = 'running' THEN recovery_crm_reads.cursor END,
         started_at = CASE WHEN recovery_crm_reads.status = 'running' THEN recovery_crm_reads.started_at ELSE now() END,
         status = 'running', error = NULL, updated_at = now()
       RETURNING cursor, started_at`,
      [idConnection, kind],
    );
    return row;
  }

  /** The next page's cursor, stored once the page is applied (null: start again from the first page). */
  async saveCursor(
    idConnection: string,
    kind: string,
    cursor: string | null,
    error: string | null = null,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE recovery_crm_reads SET cursor = $3, error = $4, updated_at = now()
        WHERE id_connection = $1 AND kind = $2`,
      [idConnection, kind, cursor, error],
    );
  }

  /** The read reached the last page (in the caller's transaction, with its events settled). */
  async finishRead(manager: EntityManager, idConnection: string, kind: string): Promise<void> {
    await manager.query(
      `UPDATE recovery_crm_reads SET status = 'done', cursor = NULL, error = NULL, updated_at = now()
        WHERE id_connection = $1 AND kind = $2`,
      [idConnection, kind],
    );
  }

  /** Panora refused the connection: its running reads stop, with the reason. */
  async giveUpReads(idConnection: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE recovery_crm_reads SET status = 'given_up', error = $2, updated_at = now()
        WHERE id_connection = $1 AND status = 'running'`,
      [idConnection, reason],
    );
  }

  /** Missed events by status (every status, 0 included). */
  async countsByStatus(): Promise<Record<MissedStatus, number>> {
    const rows = await this.dataSource.query<{ status: MissedStatus; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM recovery_missed_events GROUP BY status`,
    );
    const counts = Object.fromEntries(MISSED_STATUSES.map((status) => [status, 0])) as Record<MissedStatus, number>;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  /** A page of missed events, newest first: `limit` of them below `cursor` (a seq). */
  list(filter: { status?: MissedStatus; cursor?: string }, limit: number): Promise<MissedEventRow[]> {
    return this.dataSource.query<MissedEventRow[]>(
      `SELECT ${MISSED_COLUMNS} FROM recovery_missed_events
        WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR seq < $2::bigint)
        ORDER BY seq DESC LIMIT $3`,
      [filter.status ?? null, filter.cursor ?? null, limit],
    );
  }

  /**
   * Deletes the missed events settled more than `days` ago (recovered, published, given up or
   * arrived late); pending ones stay, however old. A walk never goes back that far (it stops at
   * the watermark less the overlap), so nothing pruned is found missed again.
   */
  async pruneSettled(days: number): Promise<number> {
    const [, deleted] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM recovery_missed_events
        WHERE status <> 'pending' AND settled_at < now() - make_interval(days => $1)`,
      [days],
    );
    return deleted;
  }
}
