import { MAX_DATA_DEPTH } from '../platform/secrets';

/**
 * The body Panora sends: `{id_event, type, data}` where `data` is usually a JSON string (its code
 * serialises the payload once) and sometimes an object (as its docs show). Checked by hand on the
 * hot path: liberal in what it accepts (extra fields are ignored), strict in what it trusts.
 */
export interface PanoraDelivery {
  id_event: string;
  type: string;
  data: string | object;
}

export const MAX_ID_LENGTH = 255;
export const MAX_TYPE_LENGTH = 255;

const UNSTORABLE =
  'must be valid Unicode text without NUL characters (it holds a lone UTF-16 surrogate or a \\u0000): ' +
  'PostgreSQL would store another string than the one sent';

/**
 * Whether PostgreSQL stores exactly this string: a lone UTF-16 surrogate would become U+FFFD (so
 * two different ids would land in one row, and the stored one would differ from the one sent) and
 * a NUL cannot be stored in text at all. Refused, rather than changed, so that what is compared is
 * what is stored.
 */
function storableText(text: string): boolean {
  return !UNSTORABLE_CHARACTER.test(text);
}
/** With the u flag, a surrogate range matches only surrogates that are not half of a pair. */
const UNSTORABLE_CHARACTER = /[\u0000\uD800-\uDFFF]/u;

/** The problems with a body, worded for whoever has to fix the sender; empty when it is fine. */
export function deliveryProblems(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return ['the body must be a JSON object {"id_event": string, "type": string, "data": string | object}'];
  }
  const { id_event, type, data } = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof id_event !== 'string' || id_event.trim() === '') problems.push('id_event must be a non-empty string');
  else if (id_event.length > MAX_ID_LENGTH) problems.push(`id_event must be at most ${MAX_ID_LENGTH} characters`);
  else if (!storableText(id_event)) problems.push(`id_event ${UNSTORABLE}`);
  if (typeof type !== 'string' || type.trim() === '') problems.push('type must be a non-empty string');
  else if (type.length > MAX_TYPE_LENGTH) problems.push(`type must be at most ${MAX_TYPE_LENGTH} characters`);
  else if (!storableText(type)) problems.push(`type ${UNSTORABLE}`);
  if (typeof data !== 'string' && (typeof data !== 'object' || data === null)) {
    problems.push('data must be a JSON string or an object');
  }
  return problems;
}

/**
 * The deepest nesting of arrays and objects in a JSON text, counted without parsing it (so a
 * hostile 10,000-level document costs one pass, no recursion). Stops counting past `limit`.
 */
export function jsonDepth(text: string, limit = MAX_DATA_DEPTH + 1): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max && (max = depth) >= limit) return max;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}
