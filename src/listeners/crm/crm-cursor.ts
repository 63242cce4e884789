import type { CrmKind } from './crm-mapping';
import { isCrmKind } from './crm-mapping';

/**
 * A position in one kind's change order (`GET /admin/crm/:kind`): the change's transaction id and
 * sequence number (`change_xid`, `change_seq`); everything at or before it has been read. Both are
 * decimal strings (bigint).
 */
export interface CrmCursor {
  kind: CrmKind;
  xid: string;
  seq: string;
}

const BIGINT_MAX = 2n ** 63n - 1n;
const isPosition = (value: unknown): value is string =>
  typeof value === 'string' && /^\d{1,19}$/.test(value) && BigInt(value) <= BIGINT_MAX;

/** Opaque to clients: base64url of `["crm", kind, xid, seq]`. */
export function encodeCursor(cursor: CrmCursor): string {
  return Buffer.from(JSON.stringify(['crm', cursor.kind, cursor.xid, cursor.seq]), 'utf8').toString('base64url');
}

/** Null when the text is not a cursor this API handed out. */
export function decodeCursor(text: string): CrmCursor | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 4) return null;
  const [tag, kind, xid, seq] = value as unknown[];
  if (tag !== 'crm' || !isCrmKind(kind) || !isPosition(xid) || !isPosition(seq)) return null;
  return { kind, xid, seq };
}

/** The later of two positions (of one kind). */
export function laterCursor(a: CrmCursor, b: CrmCursor): CrmCursor {
  const [ax, as, bx, bs] = [BigInt(a.xid), BigInt(a.seq), BigInt(b.xid), BigInt(b.seq)];
  return ax > bx || (ax === bx && as >= bs) ? a : b;
}
