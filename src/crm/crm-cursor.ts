/** Where a page of `GET /admin/crm/:kind` ended: the last row's `updated_at` (µs, UTC) and id. */
export interface CrmCursor {
  updatedAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Opaque to clients: base64url of `[updatedAt, id]`. */
export function encodeCursor(cursor: CrmCursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt, cursor.id]), 'utf8').toString('base64url');
}

/** Null when the text is not a cursor this API handed out. */
export function decodeCursor(text: string): CrmCursor | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [updatedAt, id] = value as unknown[];
  if (typeof updatedAt !== 'string' || !TIMESTAMP.test(updatedAt)) return null;
  if (typeof id !== 'string' || id.length === 0 || id.length > 255) return null;
  return { updatedAt, id };
}
