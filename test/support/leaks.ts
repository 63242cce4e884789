/** Values that must never appear in a log line or a response body, by kind. */
export type SecretKind =
  'endpoint secret' | 'connection token' | 'signature' | 'admin key' | 'secrets key' | 'oauth blob' | 'metrics token';

const HEX_64 = /[0-9a-f]{64}/gi;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export interface Leak {
  kind: SecretKind;
  /** The last 4 characters, enough to tell which one without printing it. */
  hint: string;
  where: string;
}

/**
 * Collects the secrets a suite used and finds them in captured text. UUID and 64-hex values
 * (endpoint secrets, connection tokens, signatures) are looked up by extracting every such token
 * from the text once (thousands of signatures against megabytes of logs stay cheap); anything else
 * is searched for as a substring.
 */
export class SecretLedger {
  private readonly tokens = new Map<string, SecretKind>();
  private readonly others = new Map<string, SecretKind>();

  add(kind: SecretKind, ...values: (string | undefined | null)[]): this {
    for (const value of values) {
      if (!value) continue;
      if (new RegExp(`^(${HEX_64.source}|${UUID.source})$`, 'i').test(value)) {
        this.tokens.set(value.toLowerCase(), kind);
      } else {
        this.others.set(value, kind);
      }
    }
    return this;
  }

  get size(): number {
    return this.tokens.size + this.others.size;
  }

  count(kind: SecretKind): number {
    return [...this.tokens.values(), ...this.others.values()].filter((k) => k === kind).length;
  }

  /** Every secret found in `text`; `where` names the text in the report. */
  find(text: string, where: string): Leak[] {
    const leaks: Leak[] = [];
    for (const pattern of [HEX_64, UUID]) {
      for (const match of text.matchAll(pattern)) {
        const kind = this.tokens.get(match[0].toLowerCase());
        if (kind) leaks.push({ kind, hint: match[0].slice(-4), where });
      }
    }
    for (const [value, kind] of this.others) {
      if (text.includes(value)) leaks.push({ kind, hint: value.slice(-4), where });
    }
    return leaks;
  }
}
