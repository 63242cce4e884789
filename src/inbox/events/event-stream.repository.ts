import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EventStatus } from '../webhook-event.entity';

/** A place in the stream: the transaction that stored a state (status_xid), then the event id. */
export interface StreamPosition {
  xid: bigint;
  id: bigint;
}

/** What the stream's filters select (the same meaning as the list's). */
export interface StreamFilter {
  status?: EventStatus;
  type?: { delivered: string; normalized: string };
  endpointId?: string;
}

/** One event as the stream shows it, at its position. */
export interface StreamRow {
  position: StreamPosition;
  id: string;
  endpointId: string;
  idEvent: string;
  type: string;
  normalizedType: string;
  status: EventStatus;
  attempts: number;
  receivedAt: Date;
  processedAt: Date | null;
  nextAttemptAt: Date;
  lastError: string | null;
}

interface RawRow {
  status_xid: string;
  id: string;
  endpoint_id: string;
  id_event: string;
  type: string;
  normalized_type: string;
  status: EventStatus;
  attempts: number;
  received_at: Date;
  processed_at: Date | null;
  next_attempt_at: Date;
  last_error: string | null;
}

/**
 * The event stream's reads on `webhook_events` (beside InboxRepository, which holds the inbox's
 * other SQL: this file only reads, by stream position, and keeps that file under its size limit).
 * See migrations/1795400001200-EventStreamPosition.ts for why a position is (status_xid, id) and
 * why only positions below `pg_snapshot_xmin` are read.
 */
@Injectable()
export class EventStreamRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The horizon: every transaction below it has ended, so no row can appear at a position before
   * (horizon, 0) any more. As a position, it is "now".
   */
  async horizon(): Promise<StreamPosition> {
    const [row] = await this.dataSource.query<{ xmin: string }[]>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
    );
    return { xid: BigInt(row.xmin), id: 0n };
  }

  /** Up to `limit` rows after `after` and up to `upTo` (inclusive), in position order. */
  async changes(
    after: StreamPosition,
    upTo: StreamPosition,
    limit: number,
    filter: StreamFilter = {},
  ): Promise<StreamRow[]> {
    const params: unknown[] = [after.xid.toString(), after.id.toString(), upTo.xid.toString(), upTo.id.toString()];
    let where = '';
    if (filter.status) {
      params.push(filter.status);
      where += ` AND status = $${params.length}`;
    }
    if (filter.type) {
      params.push(filter.type.normalized, filter.type.delivered);
      where += ` AND (normalized_type = $${params.length - 1} OR type = $${params.length})`;
    }
    if (filter.endpointId) {
      params.push(filter.endpointId);
      where += ` AND endpoint_id = $${params.length}`;
    }
    params.push(limit);
    const rows = await this.dataSource.query<RawRow[]>(
      // Ordered by the bigint columns (e.…), not the text ones of the same names the select answers.
      `SELECT e.status_xid::text AS status_xid, e.id::text AS id, endpoint_id, id_event, type, normalized_type,
              status, attempts, received_at, processed_at, next_attempt_at, last_error
         FROM webhook_events e
        WHERE (e.status_xid, e.id) > ($1::bigint, $2::bigint) AND (e.status_xid, e.id) <= ($3::bigint, $4::bigint)${where}
        ORDER BY e.status_xid, e.id
        LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({
      position: { xid: BigInt(r.status_xid), id: BigInt(r.id) },
      id: r.id,
      endpointId: r.endpoint_id,
      idEvent: r.id_event,
      type: r.type,
      normalizedType: r.normalized_type,
      status: r.status,
      attempts: r.attempts,
      receivedAt: r.received_at,
      processedAt: r.processed_at,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
    }));
  }
}
