import { randomBytes } from 'node:crypto';
import { parseSecretKey, SecretBox } from '../secrets/secret-box';
import { SENSITIVE_KEYS } from '../common/logging';
import { MAX_DATA_DEPTH } from './delivery';
import {
  isCredentialKey,
  mayHoldCredentials,
  redactCredentials,
  revealCredentials,
  sealCredentials,
} from './payload-secrets';

const box = new SecretBox(parseSecretKey(randomBytes(32).toString('base64')));

describe(mayHoldCredentials.name, () => {
  it('should flag payloads that name a token, also through JSON escapes', () => {
    expect(mayHoldCredentials('{"connection_token":"t"}')).toBe(true);
    expect(mayHoldCredentials('{"connection\\u005ftoken":"t"}')).toBe(true);
    expect(mayHoldCredentials('{"id":"c1","name":"Acme"}')).toBe(false);
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

  it('should redact credentials at any depth for admin answers', () => {
    expect(redactCredentials({ a: { connection_token: 't', secret: 's', keep: 1 } })).toEqual({
      a: { connection_token: '[redacted]', secret: '[redacted]', keep: 1 },
    });
  });
});

describe(redactCredentials.name, () => {
  it('should redact every key of the log redaction list, in objects nested in arrays of a CRM object', () => {
    const contact = {
      id: 'c-1',
      first_name: 'Ada',
      remote_data: {
        properties: Object.fromEntries(SENSITIVE_KEYS.map((key) => [key, `value-of-${key}`])),
        integrations: [{ name: 'mail', auth: { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3600 } }],
      },
      field_mappings: { api_key: 'k-1', note: 'keep me' },
    };
    const redacted = redactCredentials(contact);
    const text = JSON.stringify(redacted);
    for (const key of SENSITIVE_KEYS) expect(text).not.toContain(`value-of-${key}`);
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
    for (const key of ['Access-Token', 'accessToken', 'CONNECTION_TOKEN', 'client_secret', 'id_token', 'x-api-key']) {
      expect({ key, redacted: isCredentialKey(key) }).toEqual({ key, redacted: true });
    }
    for (const key of ['token_type', 'token_hint', 'email_address', 'remote_id', 'expiration_timestamp']) {
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
