import { randomBytes } from 'node:crypto';
import { parseSecretKey, SecretBox } from './secret-box';
import { MAX_DATA_DEPTH } from './payload-secrets';
import {
  CREDENTIAL_KEYS,
  isCredentialKey,
  mayHoldCredentials,
  PayloadTooDeepError,
  redactCredentials,
  revealCredentials,
  sealCredentials,
  sealCredentialsJson,
} from './payload-secrets';

const box = new SecretBox(parseSecretKey(randomBytes(32).toString('base64')));

/** Credential keys as senders spell them; each with the handling the list gives it. */
const SPELLINGS: [string, 'sealed' | 'dropped'][] = [
  ['connection_token', 'sealed'],
  ['connectionToken', 'sealed'],
  ['Connection-Token', 'sealed'],
  ['CONNECTION_TOKEN', 'sealed'],
  ['access_token', 'dropped'],
  ['accessToken', 'dropped'],
  ['refresh_token', 'dropped'],
  ['RefreshToken', 'dropped'],
  ['id_token', 'dropped'],
  ['token', 'dropped'],
  ['client_secret', 'dropped'],
  ['clientSecret', 'dropped'],
  ['private_key', 'dropped'],
  ['privateKey', 'dropped'],
  ['aws_secret_access_key', 'dropped'],
  ['AWS_SECRET_ACCESS_KEY', 'dropped'],
  ['authorization', 'dropped'],
  ['Authorization', 'dropped'],
  ['password', 'dropped'],
  ['user_password', 'dropped'],
  ['api_key', 'dropped'],
  ['apiKey', 'dropped'],
  ['x-api-key', 'dropped'],
  ['secret', 'dropped'],
  ['apitoken', 'dropped'],
  ['token"', 'dropped'],
  ['api\tkey', 'dropped'],
  ['Client Secret ', 'dropped'],
];

/** A payload holding `key` at several depths: top level, nested object, object in an array. */
function holding(key: string, value: string) {
  return {
    id: 'row-1',
    [key]: value,
    remote_data: { properties: { [key]: value, keep: 'kept' } },
    integrations: [{ name: 'mail', auth: { [key]: value } }],
  };
}

describe(mayHoldCredentials.name, () => {
  it('should flag every spelling of every credential key, at any depth, and payloads without one not', () => {
    for (const [key] of SPELLINGS) {
      expect({ key, flagged: mayHoldCredentials(JSON.stringify(holding(key, 'v'))) }).toEqual({ key, flagged: true });
      expect({ key, flagged: mayHoldCredentials(`{"a":{"${JSON.stringify(key).slice(1, -1)}" : 1}}`) }).toEqual({
        key,
        flagged: true,
      });
    }
    for (const name of Object.keys(CREDENTIAL_KEYS)) {
      expect({ name, flagged: mayHoldCredentials(JSON.stringify({ a: [{ [name]: 1 }] })) }).toEqual({
        name,
        flagged: true,
      });
    }
    expect(mayHoldCredentials('{"connection\\u005ftoken":"t"}')).toBe(true);
    expect(mayHoldCredentials('{"connectio\\u006E_token":"t"}')).toBe(true);
    const plain = {
      id: 'c1',
      name: 'Acme',
      token_type: 'oauth2',
      token_hint: 'abcd',
      note: 'the token: is "secret": not a key',
      created_at: '2026-11-23T04:00:00.000Z',
    };
    expect(mayHoldCredentials(JSON.stringify(plain))).toBe(false);
  });

  it('should flag every key the list calls a credential, however its words are cased, separated or escaped', () => {
    const cases = [(w: string) => w, (w: string) => w.toUpperCase(), (w: string) => w[0].toUpperCase() + w.slice(1)];
    const separators = ['', '_', '-', ' ', '.', '\t', '"', '\\'];
    const missed: string[] = [];
    let checked = 0;
    for (const name of Object.keys(CREDENTIAL_KEYS)) {
      for (const prefix of ['', 'x', 'x_', 'My-', '"', '\\']) {
        for (const separator of separators) {
          for (const suffix of ['', '_', ' ', '"', '\n']) {
            for (const spell of cases) {
              const key = prefix + name.split('_').map(spell).join(separator) + suffix;
              const flagged = mayHoldCredentials(JSON.stringify([{ a: 1, [key]: 'v' }]));
              if (!isCredentialKey(key) || !flagged) missed.push(key);
              checked++;
            }
          }
        }
      }
    }
    expect(missed).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe(sealCredentials.name, () => {
  it('should drop Panora access/refresh tokens and seal the connection token, in objects and rows', () => {
    const sealed = sealCredentials(
      [{ id_connection: 'c1', connection_token: 'secret-token', access_token: 'a', refresh_token: 'r' }],
      box,
    ) as Record<string, unknown>[];
    expect(sealed[0]).not.toHaveProperty('access_token');
    expect(sealed[0]).not.toHaveProperty('refresh_token');
    expect(JSON.stringify(sealed)).not.toContain('secret-token');
    expect(revealCredentials(sealed, box)).toEqual([{ id_connection: 'c1', connection_token: 'secret-token' }]);
  });

  it('should seal or drop every spelling of a credential at any depth, in arrays of rows, and reveal the sealed ones', () => {
    for (const [key, handling] of SPELLINGS) {
      const rows = [holding(key, 'plain-credential-1'), holding(key, 'plain-credential-2')];
      const stored = sealCredentials(rows, box);
      const text = JSON.stringify(stored);
      expect({ key, leaked: text.includes('plain-credential') }).toEqual({ key, leaked: false });
      expect(text).toContain('"keep":"kept"');
      const revealed = revealCredentials(JSON.parse(text), box);
      if (handling === 'sealed') {
        expect({ key, revealed }).toEqual({ key, revealed: rows });
      } else {
        const without = (value: string) => {
          const row: Record<string, unknown> = holding(key, value);
          delete row[key];
          delete (row.remote_data as { properties: Record<string, unknown> }).properties[key];
          delete (row.integrations as { auth: Record<string, unknown> }[])[0].auth[key];
          return row;
        };
        expect({ key, revealed }).toEqual({
          key,
          revealed: [without('plain-credential-1'), without('plain-credential-2')],
        });
      }
    }
  });

  it('should keep a __proto__ key as a key, also beside and above a credential', () => {
    const payload = JSON.parse(
      '{"__proto__":{"polluted":true,"connection_token":"t-1"},"id":"c1","connection_token":"t-2","access_token":"a"}',
    ) as unknown;
    const stored = JSON.stringify(sealCredentials(payload, box));
    expect(stored).toContain('"__proto__":{"polluted":true,"connection_token":"sb1.');
    expect(stored).not.toContain('"a"');
    const revealed = revealCredentials(JSON.parse(stored), box) as Record<string, unknown>;
    expect(Object.keys(revealed)).toEqual(['__proto__', 'id', 'connection_token']);
    expect(JSON.stringify(revealed)).toBe(
      '{"__proto__":{"polluted":true,"connection_token":"t-1"},"id":"c1","connection_token":"t-2"}',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(redactCredentials(JSON.parse(stored)))).toBe(
      '{"__proto__":{"polluted":true,"connection_token":"[redacted]"},"id":"c1","connection_token":"[redacted]"}',
    );
  });

  it('should stop at MAX_DATA_DEPTH without overflowing the stack, never storing a credential below it', () => {
    let deep: unknown = { connection_token: 'deepest' };
    for (let i = 0; i < 100_000; i++) deep = { child: deep };
    expect(() => sealCredentials(deep, box)).toThrow(PayloadTooDeepError);
    expect(revealCredentials(deep, box)).toBe(deep);
    expect(JSON.stringify(redactCredentials(deep))).toContain('[redacted]');
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i, nested: { connection_token: `t-${i}` } }));
    const stored = sealCredentials(rows, box) as { nested: { connection_token: string } }[];
    expect(stored.every((row) => SecretBox.isSealed(row.nested.connection_token))).toBe(true);
  });
});

describe('sealCredentialsJson', () => {
  it('should keep every digit of numbers JSON.parse would round or respell, and __proto__ keys', () => {
    const signed =
      '{"id":1152921504606846977,"amount":123456789012345678901234567890.5,"price":1.10,"zero":-0,' +
      '"huge":1e400,"small":12,"__proto__":{"k":1},"rows":[{"n":9007199254740993,"connection_token":"ct"}]}';
    const stored = sealCredentialsJson(signed, box);
    for (const number of [
      '1152921504606846977',
      '123456789012345678901234567890.5',
      '1.10',
      '-0',
      '1e400',
      '9007199254740993',
    ]) {
      expect(stored).toContain(`:${number}`);
    }
    expect(stored).toContain('"small":12');
    expect(stored).toContain('"__proto__":{"k":1}');
    expect(stored).not.toContain('"ct"');
  });

  it('should refuse invalid JSON and data deeper than MAX_DATA_DEPTH', () => {
    expect(() => sealCredentialsJson('{"connection_token":', box)).toThrow(SyntaxError);
    const deep = `${'['.repeat(MAX_DATA_DEPTH + 1)}{"token":1}${']'.repeat(MAX_DATA_DEPTH + 1)}`;
    expect(() => sealCredentialsJson(deep, box)).toThrow(PayloadTooDeepError);
    const deepWithBigNumber = `${'['.repeat(100_000)}1152921504606846977${']'.repeat(100_000)}`;
    expect(() => sealCredentialsJson(deepWithBigNumber, box)).toThrow(PayloadTooDeepError);
  });
});

describe(redactCredentials.name, () => {
  it('should redact every credential of the list, in objects nested in arrays of a CRM object', () => {
    const contact = {
      id: 'c-1',
      first_name: 'Ada',
      remote_data: {
        properties: Object.fromEntries(Object.keys(CREDENTIAL_KEYS).map((key) => [key, `value-of-${key}`])),
        integrations: [{ name: 'mail', auth: { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3600 } }],
      },
      field_mappings: { api_key: 'k-1', note: 'keep me' },
    };
    const redacted = redactCredentials(contact);
    const text = JSON.stringify(redacted);
    for (const key of Object.keys(CREDENTIAL_KEYS)) expect(text).not.toContain(`value-of-${key}`);
    for (const value of ['at-1', 'rt-1', 'k-1']) expect(text).not.toContain(value);
    expect(redacted).toMatchObject({
      id: 'c-1',
      first_name: 'Ada',
      remote_data: { integrations: [{ name: 'mail', auth: { access_token: '[redacted]', expires_in: 3600 } }] },
      field_mappings: { api_key: '[redacted]', note: 'keep me' },
    });
    // The input is not modified.
    expect(contact.field_mappings.api_key).toBe('k-1');
  });

  it('should recognise a credential key however it is spelt, and leave other keys alone', () => {
    for (const [key] of SPELLINGS) expect({ key, redacted: isCredentialKey(key) }).toEqual({ key, redacted: true });
    for (const key of [
      'token_type',
      'token_hint',
      'email_address',
      'remote_id',
      'expiration_timestamp',
      'aws_access_key_id',
      'key',
    ]) {
      expect({ key, redacted: isCredentialKey(key) }).toEqual({ key, redacted: false });
    }
  });

  it('should replace a whole credential value, object or array, and keep null', () => {
    expect(redactCredentials([{ secret: { value: 's', rotated: ['s0'] }, password: null }])).toEqual([
      { secret: '[redacted]', password: null },
    ]);
  });

  it('should stop recursing at MAX_DATA_DEPTH, redacting what lies below whole', () => {
    let deep: unknown = { access_token: 'deepest' };
    for (let i = 0; i < MAX_DATA_DEPTH + 10; i++) deep = { child: deep };
    const text = JSON.stringify(redactCredentials(deep));
    expect(text).not.toContain('deepest');
    expect(text).toContain('[redacted]');
    // Within the limit, structure is kept.
    let shallow: unknown = { access_token: 'x', keep: 1 };
    for (let i = 0; i < MAX_DATA_DEPTH - 2; i++) shallow = { child: shallow };
    expect(JSON.stringify(redactCredentials(shallow))).toContain('{"access_token":"[redacted]","keep":1}');
  });
});
