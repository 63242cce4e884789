import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/env.schema';
import { SecretBox } from './secret-box';
import { loadSecretBox } from './secrets.module';

describe(loadSecretBox.name, () => {
  let dataDir: string;
  const logger = { warn: jest.fn() };
  const load = (env: { SECRETS_KEY?: string; SECRETS_KEY_PREVIOUS?: string[] } = {}) =>
    loadSecretBox({ NODE_ENV: 'development', DATA_DIR: dataDir, SECRETS_KEY_PREVIOUS: [], ...env }, logger as never);

  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'secrets-')), 'data');
    logger.warn.mockReset();
  });
  afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

  it('should generate a key into DATA_DIR once, with a warning, and reuse it on the next start', () => {
    const sealed = load().seal('801f9ede-c698-4e66-a7fc-48d19eebaa4f');
    const file = join(dataDir, 'secrets.key');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toContain(`generated a development key in ${file}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8');

    const again = load();
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(readFileSync(file, 'utf8')).toBe(key);
    expect(again.open(sealed)).toBe('801f9ede-c698-4e66-a7fc-48d19eebaa4f');
  });

  it('should use SECRETS_KEY when set, and write no file', () => {
    const box = load({ SECRETS_KEY: randomBytes(32).toString('base64') });
    expect(box).toBeInstanceOf(SecretBox);
    expect(logger.warn).not.toHaveBeenCalled();
    expect(() => statSync(join(dataDir, 'secrets.key'))).toThrow();
  });

  it('should refuse a damaged key file with one line naming it, never with the key', () => {
    load();
    const file = join(dataDir, 'secrets.key');
    writeFileSync(file, 'tOoShOrT');
    let thrown: unknown;
    try {
      load();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(new RegExp(`^${file}: expected 32 random bytes[^\\n]*$`));
    expect((thrown as Error).message).not.toContain('tOoShOrT');
  });
});
