import { randomBytes } from 'node:crypto';
import { ConfigError, parseEnv } from './env.schema';

/** Production needs a database of its own (see 'parseEnv: DATABASE_URL'). */
const PRODUCTION_DATABASE = { DATABASE_URL: 'postgres://app:password@db.internal:5432/panora_webhooks' };

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
    const env = parseEnv({
      PORT: '8080',
      WEBHOOK_BODY_LIMIT: '512kb',
      ADMIN_API_KEYS: ' admin-key-aaaaaaaaa, ,admin-key-bbbbbbbbb ',
    });
    expect(env.PORT).toBe(8080);
    expect(env.WEBHOOK_BODY_LIMIT).toBe(512 * 1024);
    expect(env.ADMIN_API_KEYS).toEqual(['admin-key-aaaaaaaaa', 'admin-key-bbbbbbbbb']);
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
    expect(
      parseEnv({ ...PRODUCTION_DATABASE, NODE_ENV: 'production', SECRETS_KEY: key(), METRICS_PUBLIC: 'true' }).NODE_ENV,
    ).toBe('production');
    expect(parseEnv({ NODE_ENV: 'development' }).SECRETS_KEY).toBeUndefined();
    expect(parseEnv({ NODE_ENV: 'test' }).SECRETS_KEY).toBeUndefined();
  });
});

describe('parseEnv: admin keys', () => {
  const problem = (source: Record<string, string>): string => {
    try {
      parseEnv(source);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('parseEnv accepted the configuration');
  };

  it.each(['ADMIN_API_KEYS', 'ADMIN_READ_API_KEYS'])(
    'should refuse a %s key shorter than 16 characters with one line naming the key and the item, not its value',
    (name) => {
      const message = problem({ [name]: 'long-enough-key-0001,admin-key-15ch' });
      expect(message).toBe(`Invalid configuration: ${name}: item 2: expected at least 16 characters`);
      expect(message).not.toContain('admin-key-15ch');
    },
  );

  it('should accept keys of 16 characters and more, in both lists', () => {
    const env = parseEnv({
      ADMIN_API_KEYS: 'x'.repeat(16),
      ADMIN_READ_API_KEYS: `${'y'.repeat(16)},${'z'.repeat(64)}`,
    });
    expect(env.ADMIN_API_KEYS).toEqual(['x'.repeat(16)]);
    expect(env.ADMIN_READ_API_KEYS).toEqual(['y'.repeat(16), 'z'.repeat(64)]);
  });

  it('should refuse a key listed both as full and as read-only', () => {
    const key = 'one-key-two-scopes-0123';
    const message = problem({ ADMIN_API_KEYS: key, ADMIN_READ_API_KEYS: `read-only-key-0123456,${key}` });
    expect(message).toMatch(/^Invalid configuration: ADMIN_READ_API_KEYS: item 2 is also in ADMIN_API_KEYS/);
    expect(message).not.toContain(key);
  });

  it('should default to 10 failed attempts a minute per client, then a block of 15 minutes', () => {
    const env = parseEnv({});
    expect(env.ADMIN_AUTH_MAX_FAILURES).toBe(10);
    expect(env.ADMIN_AUTH_BLOCK_SECONDS).toBe(900);
    expect(problem({ ADMIN_AUTH_MAX_FAILURES: '0' })).toMatch(/^Invalid configuration: ADMIN_AUTH_MAX_FAILURES: /);
  });
});

describe('parseEnv: METRICS_TOKEN and METRICS_PUBLIC', () => {
  const production = {
    ...PRODUCTION_DATABASE,
    NODE_ENV: 'production',
    SECRETS_KEY: randomBytes(32).toString('base64'),
  };
  const problem = (source: Record<string, string>): string => {
    try {
      parseEnv(source);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('parseEnv accepted the configuration');
  };

  it('should refuse NODE_ENV=production with neither, on one line saying to set one of them', () => {
    const message = problem(production);
    expect(message).toBe(
      'Invalid configuration: METRICS_TOKEN: required when NODE_ENV=production: set METRICS_TOKEN (16+ characters) for GET /metrics, or METRICS_PUBLIC=true to leave it open',
    );
    expect(problem({ ...production, METRICS_PUBLIC: 'false' })).toMatch(/METRICS_TOKEN: required/);
  });

  it('should start in production with a token, or with METRICS_PUBLIC=true', () => {
    expect(parseEnv({ ...production, METRICS_TOKEN: 'metrics-token-0123456789' }).METRICS_PUBLIC).toBe(false);
    expect(parseEnv({ ...production, METRICS_PUBLIC: 'true' }).METRICS_PUBLIC).toBe(true);
  });

  it('should leave /metrics open outside production when neither is set, as before', () => {
    const env = parseEnv({ NODE_ENV: 'development' });
    expect(env.METRICS_TOKEN).toBeUndefined();
    expect(env.METRICS_PUBLIC).toBe(false);
  });

  it('should refuse both at once: a token and an open /metrics contradict each other', () => {
    expect(problem({ METRICS_TOKEN: 'metrics-token-0123456789', METRICS_PUBLIC: 'true' })).toMatch(
      /^Invalid configuration: METRICS_PUBLIC: true while METRICS_TOKEN is set/,
    );
  });
});

describe('parseEnv: DATABASE_URL', () => {
  const production = {
    NODE_ENV: 'production',
    SECRETS_KEY: randomBytes(32).toString('base64'),
    METRICS_PUBLIC: 'true',
  };

  const problem = (source: Record<string, string>): string => {
    try {
      parseEnv(source);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('parseEnv accepted the configuration');
  };

  it('should refuse NODE_ENV=production without DATABASE_URL, on one line saying the embedded PostgreSQL is a development tool', () => {
    expect(problem(production)).toBe(
      'Invalid configuration: DATABASE_URL: required when NODE_ENV=production: the embedded PostgreSQL is a development tool',
    );
    expect(problem({ ...production, DATABASE_URL: ' ' })).toMatch(/^Invalid configuration: DATABASE_URL: required/);
  });

  it('should start in production with DATABASE_URL, and without it elsewhere (the embedded PostgreSQL)', () => {
    expect(parseEnv({ ...production, ...PRODUCTION_DATABASE }).DATABASE_URL).toBe(PRODUCTION_DATABASE.DATABASE_URL);
    expect(parseEnv({ NODE_ENV: 'development' }).DATABASE_URL).toBeUndefined();
    expect(parseEnv({ NODE_ENV: 'test' }).DATABASE_URL).toBeUndefined();
  });
});
