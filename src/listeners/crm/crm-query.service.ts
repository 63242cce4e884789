import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor, laterCursor, type CrmCursor } from './crm-cursor';
import type { CrmKind } from './crm-mapping';
import { CRM_OBJECT_COLUMNS, toView, type CrmObjectRow, type CrmObjectView } from './crm-object';
import { CrmErrorCode, CrmException } from './crm.exception';
import type { ListCrmObjectsQuery } from './crm.dto';

const DEFAULT_LIMIT = 50;

/*
 * The change order: every insert or change of a row gives it a new (change_xid, change_seq): the id
 * of the transaction that wrote it and a number from a sequence. Both are taken when the row is
 * written, not when it commits, so a position alone is not safe to resume from: a transaction that
 * started earlier may commit rows below it later. The horizon fixes that: only rows written by a
 * transaction older than every transaction of this database still running are listed (from the
 * statement's own snapshot: its in-progress ids, else its xmax, the next id to be assigned).
 * Those transactions have all finished, and any row written from now on gets a transaction id at
 * or above the horizon, so nothing ever appears behind a position handed out. Only transactions
 * known to belong to another database of the server (pg_stat_activity) are left out of the
 * horizon: an id is never reused, so that holds whenever it was seen; anything not identified
 * counts. The horizon is read in the same statement (the same snapshot) as the rows.
 */
const LIST_SQL = `
  WITH h AS (
    SELECT COALESCE(
             (SELECT min(x) FROM pg_snapshot_xip(snap.s) AS x
               WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                  WHERE a.backend_xid = x::xid AND a.datname IS DISTINCT FROM current_database())),
             pg_snapshot_xmax(snap.s))::text::bigint AS horizon
      FROM (SELECT pg_current_snapshot() AS s) snap
  )
  SELECT h.horizon::text AS horizon, o.*
    FROM h
    LEFT JOIN LATERAL (
      SELECT ${CRM_OBJECT_COLUMNS}, change_xid::text AS change_xid, change_seq::text AS change_seq
        FROM crm_objects
       WHERE kind = $1
         AND change_xid < h.horizon
         AND (change_xid, change_seq) > ($2::bigint, $3::bigint)
         AND ($4::timestamptz IS NULL OR updated_at >= $4::timestamptz)
       ORDER BY change_xid, change_seq
       LIMIT $5
    ) o ON true`;

type ObjectRow = CrmObjectRow & { change_xid: string; change_seq: string };
/** One row per object, or a single row of nulls (but the horizon) when none matched. */
type ListRow = { horizon: string } & (ObjectRow | { panora_id: null });

/** Reads the CRM projections (the admin API). Deleted objects are listed too, with `deletedAt`. */
@Injectable()
export class CrmQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Objects in the order their changes became readable, each change once: follow `nextCursor`
   * to read everything, then keep polling with the last one to get every later change. There is
   * always a `nextCursor`; a page shorter than `limit` means there is nothing more for now.
   */
  async list(kind: CrmKind, query: ListCrmObjectsQuery): Promise<{ items: CrmObjectView[]; nextCursor: string }> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new CrmException(CrmErrorCode.BadCursor, 'cursor must be the nextCursor of a previous page');
    }
    if (after && after.kind !== kind) {
      throw new CrmException(
        CrmErrorCode.BadCursor,
        `this cursor belongs to /admin/crm/${after.kind}: pass it there, or start ${kind} without a cursor`,
      );
    }
    const start: CrmCursor = after ?? { kind, xid: '0', seq: '0' };
    const result: ListRow[] = await this.dataSource.query(LIST_SQL, [
      kind,
      start.xid,
      start.seq,
      query.updatedSince ?? null,
      limit + 1,
    ]);
    const rows = result.filter((row): row is ListRow & ObjectRow => row.panora_id !== null);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next: CrmCursor =
      rows.length > limit
        ? { kind, xid: last.change_xid, seq: last.change_seq }
        : // Caught up: everything below the horizon that matches has been listed; resume from there.
          laterCursor(start, { kind, xid: result[0].horizon, seq: '0' });
    return { items: page.map(toView), nextCursor: encodeCursor(next) };
  }

  async get(kind: CrmKind, id: string): Promise<CrmObjectView> {
    const [row]: CrmObjectRow[] = await this.dataSource.query(
      `SELECT ${CRM_OBJECT_COLUMNS} FROM crm_objects WHERE kind = $1 AND panora_id = $2`,
      [kind, id],
    );
    if (!row) throw new CrmException(CrmErrorCode.NotFound, `No ${kind} with id ${id.slice(0, 80)}`);
    return toView(row);
  }
}
