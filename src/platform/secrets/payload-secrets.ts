import { SecretBox } from './secret-box';

/**
 * The deepest data the service stores and walks: Panora's payloads nest a few levels; anything
 * this deep is refused at the door rather than stored (the receiver checks with `jsonDepth`).
 */
export const MAX_DATA_DEPTH = 128;

/** What becomes of a credential found in a payload: `sealed` (kept, encrypted) or `dropped`. */
export type CredentialHandling = 'sealed' | 'dropped';

/**
 * The credential list: which keys of a Panora payload hold credentials, and what becomes of them.
 *
 * A key holds a credential when it ends with a name below, in any case, with or without anything
 * but letters and digits between the name's words or after it: `connectionToken`,
 * `Connection-Token` and `CONNECTION_TOKEN` are `connection_token`; `client_secret` and
 * `ClientSecret` end with `secret`, `apitoken` with `token`, `x-api-key` and `apiKey` with `api_key`,
 * `aws_secret_access_key` with `access_key`. The longest matching name decides. This holds at any
 * depth of the payload: in nested objects (`remote_data.access_token`) and in arrays of rows
 * (`*.pulled`).
 * - `sealed`: kept for the listeners, encrypted with the secret box (AES-256-GCM, SECRETS_KEY)
 *   before the payload is stored and opened again only for them (a value that is not a string is
 *   dropped: it cannot be a token).
 * - `dropped`: removed before the payload is stored; listeners never see it.
 * Admin answers, the CRM read API, messages on the bus and log lines show every one of them, sealed
 * or not, as "[redacted]".
 */
export const CREDENTIAL_KEYS: Readonly<Record<string, CredentialHandling>> = {
  /** Panora's connection token: the connections listener keeps it (sealed) for sibling services. */
  connection_token: 'sealed',
  /** Panora's encrypted OAuth blobs of a connection: never stored, never passed on. */
  access_token: 'dropped',
  refresh_token: 'dropped',
  /** Every other token: `id_token`, `api_token`, `bearer_token`, `session_token`, … */
  token: 'dropped',
  /** `client_secret`, `webhook_secret`, … */
  secret: 'dropped',
  secrets: 'dropped',
  password: 'dropped',
  passwd: 'dropped',
  passphrase: 'dropped',
  /** `api_key`, `apiKey`, `x-api-key`. */
  api_key: 'dropped',
  private_key: 'dropped',
  /** `stripe_secret_key`, … */
  secret_key: 'dropped',
  /** `aws_secret_access_key`, … */
  access_key: 'dropped',
  authorization: 'dropped',
  credential: 'dropped',
  credentials: 'dropped',
  cookie: 'dropped',
};

export const REDACTED_VALUE = '[redacted]';

/** One name of the list as its words: `api_key` → `['api', 'key']`. */
interface Name {
  words: string[];
  handling: CredentialHandling;
  /** A key ending with this name (see CREDENTIAL_KEYS). */
  pattern: RegExp;
}

/**
 * A name spelt with `separator` allowed between its words (never inside one), then anything but
 * letters and digits up to the end. Without the `u` flag, `i` only folds ASCII letters into each
 * other (no Kelvin sign for `k`), and `[^a-z0-9]` is everything else.
 */
const spelt = (words: string[], separator: string) => words.join(separator);
const BETWEEN_WORDS = '[^a-z0-9]*';

/** The list's names, longest first: the longest matching name decides. */
const NAMES: Name[] = Object.entries(CREDENTIAL_KEYS)
  .map(([name, handling]) => {
    const words = name.split('_');
    return { words, handling, pattern: new RegExp(`${spelt(words, BETWEEN_WORDS)}${BETWEEN_WORDS}$`, 'i') };
  })
  .sort((a, b) => b.words.join('').length - a.words.join('').length);

/** Whether every key ending with `longer` also ends with `shorter` (`connection_token` and `token`). */
const covers = (shorter: string[], longer: string[]) =>
  shorter.length <= longer.length &&
  longer[longer.length - shorter.length].endsWith(shorter[0]) &&
  shorter.slice(1).every((word, i) => word === longer[longer.length - shorter.length + 1 + i]);
/** The names no other name covers: enough to tell whether a key holds a credential. */
const ENDINGS = NAMES.map((name) => name.words).filter((words) =>
  NAMES.every((other) => other.words === words || !covers(other.words, words)),
);

/** A key ending with a name of the list. */
const CREDENTIAL_KEY = new RegExp(
  `(?:${ENDINGS.map((words) => spelt(words, BETWEEN_WORDS)).join('|')})${BETWEEN_WORDS}$`,
  'i',
);
/**
 * The same in JSON text: a key (a string followed by `:`) ending that way, where a character that
 * is not a letter or a digit is either itself or a two-character escape (`\"`, `\\`, `\n`, …). A
 * `\u` escape can spell a letter: any `\u` in the text means "parse" (see mayHoldCredentials).
 */
const SEPARATOR_IN_JSON = String.raw`(?:[^a-z0-9"\\]|\\[^u])*`;
const CREDENTIAL_KEY_IN_JSON = new RegExp(
  `(?:${ENDINGS.map((words) => spelt(words, SEPARATOR_IN_JSON)).join('|')})${SEPARATOR_IN_JSON}"\\s*:`,
  'i',
);

/** Keys already looked up: payloads and log lines repeat the same few keys. Bounded: cleared when full. */
const lookups = new Map<string, CredentialHandling | null>();
const MAX_LOOKUPS = 10_000;
const MAX_LOOKUP_KEY = 100;

/** What the credential list says of a key: `sealed`, `dropped`, or undefined (not a credential). */
export function credentialHandling(key: string): CredentialHandling | undefined {
  let handling = lookups.get(key);
  if (handling === undefined) {
    handling = CREDENTIAL_KEY.test(key) ? (NAMES.find((name) => name.pattern.test(key))?.handling ?? null) : null;
    if (key.length <= MAX_LOOKUP_KEY) {
      if (lookups.size >= MAX_LOOKUPS) lookups.clear();
      lookups.set(key, handling);
    }
  }
  return handling ?? undefined;
}

/** Whether a key of a payload object holds a credential (its value is then sealed, dropped or redacted). */
export function isCredentialKey(key: string): boolean {
  return credentialHandling(key) !== undefined;
}

/**
 * Cheap pre-check on the JSON text (one pass of one regular expression): false only when no key of
 * the document can be a credential key, so the payload can be stored as it came, unparsed. A key
 * written with `\u` escapes could spell anything: any `\u` means parse.
 */
export function mayHoldCredentials(json: string): boolean {
  return json.includes('\\u') || CREDENTIAL_KEY_IN_JSON.test(json);
}

// Node ≥ 21 (V8's "JSON.parse source text access"); TypeScript 5.9's lib does not declare it yet.
interface ReviverContext {
  /** The JSON text of a primitive value (absent for objects and arrays). */
  source?: string;
}
const NativeJSON = JSON as JSON & {
  parse(
    text: string,
    reviver: (this: unknown, key: string, value: unknown, context: ReviverContext) => unknown,
  ): unknown;
  rawJSON(text: string): object;
  isRawJSON(value: unknown): boolean;
};

/** A number token in JSON text, found without parsing: what follows a `:`, `,` or `[`, or starts the text. */
const NUMBER_TOKEN = /(?:^|[:,[])\s*(-?[0-9][0-9.eE+-]*)(?=\s*(?:[,}\]]|$))/g;

/**
 * True when a number in the text would not come back the same from JSON.parse and JSON.stringify
 * (beyond 2^53, `1e400`, `1.0`, `-0`, `1E5`). Strings that look like numbers after a comma may
 * answer true too: that only costs the slower parse.
 */
function hasInexactNumber(json: string): boolean {
  for (const [, token] of json.matchAll(NUMBER_TOKEN)) if (String(Number(token)) !== token) return true;
  return false;
}

function keepNumberText(_key: string, value: unknown, context: ReviverContext): unknown {
  return typeof value === 'number' && context.source !== undefined && String(value) !== context.source
    ? NativeJSON.rawJSON(context.source)
    : value;
}

/** Thrown for a payload nested deeper than MAX_DATA_DEPTH (refused at the door; never sealed half-way). */
export class PayloadTooDeepError extends Error {
  constructor() {
    super(`data nests deeper than ${MAX_DATA_DEPTH} levels`);
  }
}

/**
 * JSON.parse that loses nothing JSON.stringify would then miss: numbers whose text would not
 * survive (beyond 2^53, `1e400`, `1.0`) are kept as raw JSON (`JSON.rawJSON`), and `__proto__` keys
 * stay own keys (JSON.parse defines them as such). Throws SyntaxError for invalid JSON, and
 * PayloadTooDeepError when a text that needs the slower parse nests thousands of levels deep.
 */
export function parseExact(json: string): unknown {
  if (!hasInexactNumber(json)) return JSON.parse(json);
  try {
    return NativeJSON.parse(json, keepNumberText);
  } catch (error) {
    // V8 applies a reviver recursively: a text nested thousands deep overflows its stack.
    if (error instanceof RangeError) throw new PayloadTooDeepError();
    throw error;
  }
}

const DROP = Symbol('drop');

interface Rewrite {
  /** The new value of a credential key's value, or DROP to remove the key. */
  credential(value: unknown, handling: CredentialHandling): unknown;
  /** What an object or array below MAX_DATA_DEPTH becomes. */
  tooDeep(value: object): unknown;
  /**
   * For values that are not JSON data (log objects): objects already seen, to share their result
   * and to cut cycles. Without it, the value is taken as JSON data (a tree).
   */
  seen?: Map<object, unknown>;
}

const IN_PROGRESS = Symbol('in progress');

/** Objects the rewrite walks into; others (Date, Buffer, raw JSON, …) serialise through their own toJSON or not at all. */
function walkable(value: object): boolean {
  return (
    typeof (value as { toJSON?: unknown }).toJSON !== 'function' &&
    !ArrayBuffer.isView(value) &&
    !NativeJSON.isRawJSON(value)
  );
}

/** Defines `key` as an own property, so that a key named `__proto__` stays a key. */
function setOwn(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Applies `rewrite.credential` to every credential key's value at any depth, copying only the
 * objects and arrays on the way to a change (the input is never modified). Recursion is bounded
 * by MAX_DATA_DEPTH.
 */
function rewriteCredentials(value: unknown, depth: number, rewrite: Rewrite): unknown {
  if (typeof value !== 'object' || value === null || !walkable(value)) return value;
  if (rewrite.seen) {
    const known = rewrite.seen.get(value);
    if (known === IN_PROGRESS) return '[Circular]';
    if (known !== undefined) return known;
  }
  if (depth >= MAX_DATA_DEPTH) return rewrite.tooDeep(value);
  rewrite.seen?.set(value, IN_PROGRESS);
  let result: object = value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = rewriteCredentials(item, depth + 1, rewrite);
      if (next !== item) (copy ??= value.slice())[i] = next;
    }
    result = copy ?? value;
  } else {
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const handling = credentialHandling(key);
      const next = handling ? rewrite.credential(item, handling) : rewriteCredentials(item, depth + 1, rewrite);
      if (next === item) continue;
      // Spreading defines own properties: a `__proto__` key of the original stays a key.
      copy ??= { ...(value as Record<string, unknown>) };
      if (next === DROP) delete copy[key];
      else setOwn(copy, key, next);
    }
    result = copy ?? value;
  }
  rewrite.seen?.set(value, result);
  return result;
}

/**
 * Seals and drops credentials as CREDENTIAL_KEYS says, at any depth, in an object or an array of
 * rows. The input is not modified. Throws PayloadTooDeepError beyond MAX_DATA_DEPTH.
 */
export function sealCredentials(payload: unknown, box: SecretBox): unknown {
  return rewriteCredentials(payload, 0, {
    credential: (value, handling) => {
      if (handling === 'dropped') return DROP;
      if (value === null) return null;
      return typeof value === 'string' ? box.seal(value) : DROP;
    },
    tooDeep: () => {
      throw new PayloadTooDeepError();
    },
  });
}

/**
 * `sealCredentials` on JSON text, returning JSON text that keeps everything else as it was signed:
 * every digit of every number and every `__proto__` key. Throws SyntaxError for invalid JSON and
 * PayloadTooDeepError beyond MAX_DATA_DEPTH (the receiver refuses such texts before: `jsonDepth`).
 */
export function sealCredentialsJson(json: string, box: SecretBox): string {
  return JSON.stringify(sealCredentials(parseExact(json), box));
}

/**
 * The payload as listeners see it: sealed credentials opened again, at any depth. Deeper than
 * MAX_DATA_DEPTH (never stored) a value stays sealed. Throws SecretBoxError for a value that will
 * not open (sealed under a key no longer configured, or tampered with).
 */
export function revealCredentials(payload: unknown, box: SecretBox): unknown {
  return rewriteCredentials(payload, 0, {
    credential: (value, handling) => (handling === 'sealed' && SecretBox.isSealed(value) ? box.open(value) : value),
    tooDeep: (value) => value,
  });
}

const redacted = (value: unknown) => (value === null ? null : REDACTED_VALUE);

/**
 * The payload as it may leave the service (admin answers, the CRM projections and their read API,
 * the bus): the value of every credential key (`isCredentialKey`) replaced by `"[redacted]"`, at
 * any depth. `null` stays `null` (it holds nothing). Recursion is bounded: deliveries deeper than
 * MAX_DATA_DEPTH are refused at the door, and anything below that depth is redacted whole.
 */
export function redactCredentials(payload: unknown): unknown {
  return rewriteCredentials(payload, 0, { credential: redacted, tooDeep: () => REDACTED_VALUE });
}

/** `redactCredentials` for one JSON object, keeping its type. */
export function redactObject(object: Record<string, unknown>): Record<string, unknown> {
  return redactCredentials(object) as Record<string, unknown>;
}

/**
 * `redactCredentials` for any value about to be logged: objects met twice are redacted once,
 * cycles become "[Circular]", and values with their own `toJSON` (dates, buffers) are left to it.
 */
export function redactLogValue(value: unknown): unknown {
  return rewriteCredentials(value, 0, { credential: redacted, tooDeep: () => REDACTED_VALUE, seen: new Map() });
}
