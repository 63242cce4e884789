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
