import { randomBytes } from 'node:crypto';
import { ConfigError, parseEnv } from './env.schema';

describe(parseEnv.name, () => {
  it('should apply the documented defaults to an empty environment', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATA_DIR).toBe('./.data');
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.WEBHOOK_BODY_LIMIT).toBe(5 * 1024 * 1024);
    expect(env.ADMIN_API_KEYS).toEqual([]);
  });

  it('should coerce numbers, sizes and lists', () => {
    const env = parseEnv({ PORT: '8080', WEBHOOK_BODY_LIMIT: '512kb', ADMIN_API_KEYS: ' a, ,b ' });
    expect(env.PORT).toBe(8080);
    expect(env.WEBHOOK_BODY_LIMIT).toBe(512 * 1024);
    expect(env.ADMIN_API_KEYS).toEqual(['a', 'b']);
  });

  it('should treat an empty value as unset', () => {
    const env = parseEnv({ PORT: '', DATABASE_URL: '  ' });
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://x'],
    ['WEBHOOK_BODY_LIMIT', 'huge'],
    ['PANORA_BASE_URL', 'ftp://x'],
  ])('should reject %s=%s with one line naming the key', (key, value) => {
    expect(() => parseEnv({ [key]: value })).toThrow(ConfigError);
    try {
      parseEnv({ [key]: value });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain(`${key}:`);
      expect(message).not.toContain('\n');
    }
  });

  it('should never echo a bad value, which may be a secret', () => {
    expect(() => parseEnv({ DATABASE_URL: 'hunter2-not-a-url' })).toThrow(/^(?!.*hunter2).*$/);
  });
});

describe('parseEnv: SECRETS_KEY', () => {
  const key = () => randomBytes(32).toString('base64');

  const problem = (source: Record<string, string>): string => {
    try {
      parseEnv(source);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('parseEnv accepted the configuration');
  };

  it('should accept 32 random bytes in base64, and previous keys alike', () => {
    const env = parseEnv({ SECRETS_KEY: key(), SECRETS_KEY_PREVIOUS: `${key()}, ${key()}` });
    expect(env.SECRETS_KEY_PREVIOUS).toHaveLength(2);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['48 bytes', randomBytes(48).toString('base64')],
    ['not base64', `${'!'.repeat(43)}=`],
    ['a passphrase', 'correct horse battery staple'],
  ])('should refuse a SECRETS_KEY of %s with one line naming the key, without the value', (_, value) => {
    const message = problem({ SECRETS_KEY: value });
    expect(message).toMatch(/^Invalid configuration: SECRETS_KEY: expected 32 random bytes, base64/);
    expect(message).not.toContain('\n');
    expect(message).not.toContain(value);
  });

  it('should name SECRETS_KEY_PREVIOUS and which of its keys is bad', () => {
    const bad = randomBytes(16).toString('base64');
    const message = problem({ SECRETS_KEY: key(), SECRETS_KEY_PREVIOUS: `${key()},${bad}` });
    expect(message).toMatch(/^Invalid configuration: SECRETS_KEY_PREVIOUS: item 2: expected 32 random bytes/);
    expect(message).not.toContain(bad);
  });

  it('should require SECRETS_KEY when NODE_ENV=production, and only then', () => {
    expect(problem({ NODE_ENV: 'production' })).toMatch(
      /^Invalid configuration: SECRETS_KEY: required when NODE_ENV=production/,
    );
    expect(parseEnv({ NODE_ENV: 'production', SECRETS_KEY: key() }).NODE_ENV).toBe('production');
    expect(parseEnv({ NODE_ENV: 'development' }).SECRETS_KEY).toBeUndefined();
    expect(parseEnv({ NODE_ENV: 'test' }).SECRETS_KEY).toBeUndefined();
  });
});
