import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** Counts of one minute (its start, ISO) of one kind. */
export interface MinuteCount {
  minute: Date;
  count: number;
}

/** One group of dead events: same normalised type, same error once ids and numbers are masked. */
export interface DeadGroupRow {
  type: string;
  error: string;
  count: number;
  sampleId: string;
  sampleError: string | null;
  newestReceivedAt: Date;
}

/**
 * The first id received at or after `$1`, found by a binary search over the primary key: each step
 * is one index probe (the first row at or after the middle id), about log2(rows) of them, so the
 * inbox needs no index on received_at (every index is one more write per event). Ids follow the
 * order of reception closely enough for a chart: a row committed a little out of order only moves
 * the boundary by a few rows, and the counts filter on received_at anyway.
 */
const FIRST_ID_SINCE = `
  WITH RECURSIVE search(lo, hi, step) AS (
    SELECT (SELECT min(id) FROM webhook_events), (SELECT max(id) + 1 FROM webhook_events), 0
    UNION ALL
    SELECT CASE WHEN probe.received_at < $1 THEN probe.id + 1 ELSE s.lo END,
           CASE WHEN probe.received_at < $1 THEN s.hi ELSE (s.lo + s.hi) / 2 END,
           s.step + 1
      FROM search s
      CROSS JOIN LATERAL (
        SELECT id, received_at FROM webhook_events WHERE id >= (s.lo + s.hi) / 2 ORDER BY id LIMIT 1
      ) probe
     WHERE s.lo < s.hi AND s.step < 80
  )
  SELECT lo::text AS id FROM search ORDER BY step DESC LIMIT 1`;

/** Masks what varies between two occurrences of one error: UUIDs, then any run of digits. */
const NORMALISED_ERROR = `regexp_replace(regexp_replace(left(coalesce(last_error, ''), 300),
  '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'gi'), '[0-9]+', 'N', 'g')`;

/**
 * The inbox's figures for the operator console: per-minute counts over the last hour and the dead
 * events grouped. Every query here walks an index that already exists (the primary key, the
 * partial indexes of processed and failed/dead rows): the console adds no write to an event.
 */
@Injectable()
export class InboxStatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The first id received at or after `time` (one past the last id when none is): as the events
   * list's cursor (`id < cursor`), it pages the events received before `time`.
   */
  async firstIdSince(time: Date): Promise<string | null> {
    const [first] = await this.dataSource.query<{ id: string | null }[]>(FIRST_ID_SINCE, [time]);
    return first?.id ?? null;
  }

  /** The inbox ids of the deliveries of one Panora `id_event`, whatever the endpoint (unique index per endpoint). */
  async idsOfIdEvent(idEvent: string): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT e.id::text AS id FROM webhook_events e
        WHERE e.endpoint_id IN (SELECT id FROM webhook_endpoints) AND e.id_event = $1 ORDER BY e.id DESC LIMIT 20`,
      [idEvent],
    );
    return rows.map((r) => r.id);
  }

  /** Events received per minute since `since` (a walk of the primary key from the first such id). */
  async receivedPerMinute(since: Date): Promise<MinuteCount[]> {
    const first = { id: await this.firstIdSince(since) };
    if (!first.id) return [];
    return this.minutes(
      `SELECT date_trunc('minute', received_at) AS minute, count(*)::int AS count
         FROM webhook_events WHERE id >= $2 AND received_at >= $1 GROUP BY 1`,
      [since, first.id],
    );
  }

  /**
   * Events processed per minute since `since`: a range of the partial index on processed_at of
   * processed rows that still hold their payload (all of them, for days: INBOX_RETENTION_DAYS ≥ 1).
   */
  processedPerMinute(since: Date): Promise<MinuteCount[]> {
    return this.minutes(
      `SELECT date_trunc('minute', processed_at) AS minute, count(*)::int AS count
         FROM webhook_events
        WHERE status = 'processed' AND payload IS NOT NULL AND processed_at >= $1 GROUP BY 1`,
      [since],
    );
  }

  /**
   * Events now failed (waiting for a retry) or dead, by the minute of their last failure since
   * `since`: a failed event's latest listener failure, a dead one's death (next_attempt_at is set to
   * the moment it died). The partial index of failed and dead rows bounds the scan by that backlog.
   */
  async failuresPerMinute(since: Date): Promise<{ failed: MinuteCount[]; dead: MinuteCount[] }> {
    const rows = await this.dataSource.query<{ status: 'failed' | 'dead'; minute: Date; count: number }[]>(
      `SELECT status, date_trunc('minute', at) AS minute, count(*)::int AS count FROM (
         SELECT e.status,
                CASE WHEN e.status = 'dead' THEN e.next_attempt_at
                     ELSE (SELECT max(l.updated_at) FROM webhook_event_listeners l WHERE l.event_id = e.id) END AS at
           FROM webhook_events e WHERE e.status IN ('failed', 'dead')) AS f
        WHERE at >= $1 GROUP BY 1, 2`,
      [since],
    );
    const of = (status: string) =>
      rows.filter((r) => r.status === status).map((r) => ({ minute: new Date(r.minute), count: r.count }));
    return { failed: of('failed'), dead: of('dead') };
  }

  /** The dead events grouped by normalised type and error (ids and numbers masked), largest first. */
  deadGroups(limit: number): Promise<DeadGroupRow[]> {
    return this.dataSource
      .query<
        {
          type: string;
          error: string;
          count: number;
          sample_id: string;
          sample_error: string | null;
          newest: Date;
        }[]
      >(
        `SELECT normalized_type AS type, ${NORMALISED_ERROR} AS error, count(*)::int AS count,
                max(id)::text AS sample_id, max(received_at) AS newest,
                (array_agg(last_error ORDER BY id DESC))[1] AS sample_error
           FROM webhook_events WHERE status = 'dead'
          GROUP BY 1, 2 ORDER BY count DESC, type, error LIMIT $1`,
        [limit],
      )
      .then((rows) =>
        rows.map((r) => ({
          type: r.type,
          error: r.error,
          count: r.count,
          sampleId: r.sample_id,
          sampleError: r.sample_error,
          newestReceivedAt: new Date(r.newest),
        })),
      );
  }

  /** The ids of one group of dead events, oldest first, at most `limit`. */
  async deadGroupIds(type: string, error: string, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT id::text AS id FROM webhook_events
        WHERE status = 'dead' AND normalized_type = $1 AND ${NORMALISED_ERROR} = $2
        ORDER BY id LIMIT $3`,
      [type, error, limit],
    );
    return rows.map((r) => r.id);
  }

  private async minutes(sql: string, params: unknown[]): Promise<MinuteCount[]> {
    const rows = await this.dataSource.query<{ minute: Date; count: number }[]>(sql, params);
    return rows.map((r) => ({ minute: new Date(r.minute), count: r.count }));
  }
}
