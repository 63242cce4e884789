import { randomBytes } from 'node:crypto';
import { parseSecretKey, SecretBox } from '../secrets/secret-box';
import { mayHoldCredentials, redactCredentials, revealCredentials, sealCredentials } from './payload-secrets';

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
