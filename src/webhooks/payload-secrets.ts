import { SENSITIVE_KEYS } from '../common/logging';
import { SecretBox } from '../secrets/secret-box';
import { MAX_DATA_DEPTH } from './delivery';

/** Panora's encrypted OAuth blobs: never stored, never passed on. */
const DROPPED = ['access_token', 'refresh_token'];
/** Credentials we must keep (listeners need them) but only sealed. */
const SEALED = ['connection_token'];

/** `connection_token`, `connectionToken`, `Connection-Token` → `connectiontoken`. */
const normalise = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');
/** Keys whose values never leave the service: the log's list and ours, however they are spelt. */
const REDACTED = new Set([...SENSITIVE_KEYS, ...DROPPED, ...SEALED].map(normalise));
/** …and anything that is plainly one by its name: `id_token`, `client_secret`, `user_password`, `x-api-key`. */
const REDACTED_ENDINGS = ['token', 'secret', 'password', 'apikey'];

/** Whether a key of a payload object holds a credential (its value is then redacted). */
export function isCredentialKey(key: string): boolean {
  const name = normalise(key);
  return REDACTED.has(name) || REDACTED_ENDINGS.some((ending) => name.endsWith(ending));
}

export const REDACTED_VALUE = '[redacted]';

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

/**
 * The payload as it may leave the service (admin answers, the CRM projections and their read API,
 * the bus): the value of every credential key (`isCredentialKey`) replaced by `"[redacted]"`, at
 * any depth. `null` stays `null` (it holds nothing). Recursion is bounded: deliveries deeper than
 * MAX_DATA_DEPTH are refused at the door, and anything below that depth is redacted whole.
 */
export function redactCredentials(payload: unknown, depth = 0): unknown {
  if (typeof payload !== 'object' || payload === null) return payload;
  if (depth >= MAX_DATA_DEPTH) return REDACTED_VALUE;
  if (Array.isArray(payload)) return payload.map((item) => redactCredentials(item, depth + 1));
  return Object.fromEntries(
    Object.entries(payload).map(([key, value]) => [
      key,
      isCredentialKey(key) && value !== null ? REDACTED_VALUE : redactCredentials(value, depth + 1),
    ]),
  );
}

/** `redactCredentials` for one JSON object, keeping its type. */
export function redactObject(object: Record<string, unknown>): Record<string, unknown> {
  return redactCredentials(object) as Record<string, unknown>;
}
