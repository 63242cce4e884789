import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor, laterCursor, type CrmCursor } from './crm-cursor';
import type { CrmKind } from './crm-mapping';
import { toView, type CrmObjectView } from './crm-object';
import { CrmErrorCode, CrmException } from './crm.exception';
import type { ListCrmObjectsQuery } from './crm.dto';
import { CrmRepository } from './crm.repository';

const DEFAULT_LIMIT = 50;

/** Reads the CRM projections (the admin API). Deleted objects are listed too, with `deletedAt`. */
@Injectable()
export class CrmQueryService {
  constructor(private readonly crm: CrmRepository) {}

  /**
   * Objects in the order their changes became readable, each change once: follow `nextCursor`
   * to read everything, then keep polling with the last one to get every later change. There is
   * always a `nextCursor`; a page shorter than `limit` means there is nothing more for now.
   * (The change order and its horizon: crm.repository.ts.)
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
    // One more than a page: whether there is more right now.
    const { horizon, rows } = await this.crm.page(kind, start, query.updatedSince ?? null, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next: CrmCursor =
      rows.length > limit
        ? { kind, xid: last.change_xid, seq: last.change_seq }
        : // Caught up: everything below the horizon that matches has been listed; resume from there.
          laterCursor(start, { kind, xid: horizon, seq: '0' });
    return { items: page.map(toView), nextCursor: encodeCursor(next) };
  }

  async get(kind: CrmKind, id: string): Promise<CrmObjectView> {
    const row = await this.crm.find(kind, id);
    if (!row) throw new CrmException(CrmErrorCode.NotFound, `No ${kind} with id ${id.slice(0, 80)}`);
    return toView(row);
  }
}
