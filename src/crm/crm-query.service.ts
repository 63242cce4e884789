import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor } from './crm-cursor';
import type { CrmKind } from './crm-mapping';
import { CRM_OBJECT_COLUMNS, toView, type CrmObjectRow, type CrmObjectView } from './crm-object';
import { CrmErrorCode, CrmException } from './crm.exception';
import type { ListCrmObjectsQuery } from './crm.dto';

const DEFAULT_LIMIT = 50;
/** `updated_at` to the microsecond, in UTC: what a cursor carries. */
const CURSOR_AT = `to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at`;

/** Reads the CRM projections (the admin API). Deleted objects are listed too, with `deletedAt`. */
@Injectable()
export class CrmQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Oldest change first, by (`updatedAt`, id): follow `nextCursor` to read everything once. */
  async list(
    kind: CrmKind,
    query: ListCrmObjectsQuery,
  ): Promise<{ items: CrmObjectView[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !cursor) {
      throw new CrmException(CrmErrorCode.BadCursor, 'cursor must be the nextCursor of a previous page');
    }
    const rows: (CrmObjectRow & { cursor_at: string })[] = await this.dataSource.query(
      `SELECT ${CRM_OBJECT_COLUMNS}, ${CURSOR_AT}
         FROM crm_objects
        WHERE kind = $1
          AND ($2::timestamptz IS NULL OR updated_at >= $2::timestamptz)
          AND ($3::timestamptz IS NULL OR (updated_at, panora_id) > ($3::timestamptz, $4::text))
        ORDER BY updated_at, panora_id
        LIMIT $5`,
      [kind, query.updatedSince ?? null, cursor?.updatedAt ?? null, cursor?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toView),
      nextCursor: rows.length > limit ? encodeCursor({ updatedAt: last.cursor_at, id: last.panora_id }) : null,
    };
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
