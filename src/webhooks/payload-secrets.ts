import { SecretBox } from '../secrets/secret-box';

/** Panora's encrypted OAuth blobs: never stored, never passed on. */
const DROPPED = ['access_token', 'refresh_token'];
/** Credentials we must keep (listeners need them) but only sealed. */
const SEALED = ['connection_token'];
/** Keys whose values never appear in an admin response. */
const REDACTED = new Set([...DROPPED, ...SEALED, 'secret', 'api_key', 'password']);

/** Cheap pre-check on the JSON text: only payloads that mention a token are parsed and rewritten. */
export function mayHoldCredentials(json: string): boolean {
  // A key may also be written with escapes (`"connection\u005ftoken"`): any escape means parse.
  return json.includes('_token"') || json.includes('\\u');
}

function mapTopLevelObjects(payload: unknown, fn: (row: Record<string, unknown>) => Record<string, unknown>): unknown {
  if (Array.isArray(payload)) return payload.map((item) => mapTopLevelObjects(item, fn));
  if (typeof payload === 'object' && payload !== null) return fn(payload as Record<string, unknown>);
  return payload;
}

/** Drops Panora's access/refresh tokens and seals connection tokens, in an object or array of rows. */
export function sealCredentials(payload: unknown, box: SecretBox): unknown {
  return mapTopLevelObjects(payload, (row) => {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) {
      if (DROPPED.includes(key)) continue;
      copy[key] =
        SEALED.includes(key) && typeof value === 'string' && !SecretBox.isSealed(value) ? box.seal(value) : value;
    }
    return copy;
  });
}

/** The payload as listeners see it: sealed connection tokens opened again. */
export function revealCredentials(payload: unknown, box: SecretBox): unknown {
  return mapTopLevelObjects(payload, (row) => {
    if (!SEALED.some((key) => SecretBox.isSealed(row[key]))) return row;
    const copy = { ...row };
    for (const key of SEALED) if (SecretBox.isSealed(copy[key])) copy[key] = box.open(copy[key]);
    return copy;
  });
}

/** The payload as the admin API shows it: every credential replaced, at any depth. */
export function redactCredentials(payload: unknown): unknown {
  if (Array.isArray(payload)) return payload.map(redactCredentials);
  if (typeof payload !== 'object' || payload === null) return payload;
  return Object.fromEntries(
    Object.entries(payload).map(([key, value]) => [key, REDACTED.has(key) ? '[redacted]' : redactCredentials(value)]),
  );
}
