import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, MAIN_JS, spawnService, waitForOk } from './support/process';

// These tests run the built service the way `npm start` does (`npm test` builds it first).
const built = existsSync(MAIN_JS);

describe('Service process (npm start)', () => {
  beforeAll(() => {
    if (!built) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
  });

  describe('with the embedded PostgreSQL (DATABASE_URL unset)', () => {
    let dataDir: string;
    let env: Record<string, string>;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'panora-webhooks-'));
      env = {
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
      };
    });

    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it('should become ready on a fresh data folder, survive SIGKILL, and shut down cleanly on SIGTERM', async () => {
      const ready = `http://127.0.0.1:${env.PORT}/health/ready`;

      const first = spawnService(env);
      await waitForOk(ready, first, 15_000);
      expect(first.output()).toContain(`Embedded PostgreSQL listening on 127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}`);
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);

      // Something committed before the crash must still be there after it.
      const credentials = JSON.parse(readFileSync(join(dataDir, 'postgres-credentials.json'), 'utf8'));
      const url = `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}/panora_webhooks`;
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query('CREATE TABLE crash_marker (id int)');
      await client.query('INSERT INTO crash_marker VALUES (42)');
      await client.end();

      first.child.kill('SIGKILL');
      await first.exited;
      // The killed process left its postmaster behind.
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true);

      const second = spawnService(env);
      await waitForOk(ready, second, 30_000);
      expect(second.output()).not.toContain('Initialising embedded PostgreSQL');
      const again = new Client({ connectionString: url });
      await again.connect();
      expect((await again.query('SELECT id FROM crash_marker')).rows).toEqual([{ id: 42 }]);
      await again.end();

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(second.output()).toContain('SIGTERM received');
      // The embedded server was stopped with the service.
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    });
  });

  it('should refuse a bad configuration with one line naming the key, exit code 1', async () => {
    const service = spawnService({ PORT: 'abc', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(await service.exited).toBe(1);
    const lines = service.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Invalid configuration: PORT: /);
  });

  it('should give up on an unreachable database after the start-up timeout, exit non-zero', async () => {
    const deadPort = await freePort();
    const service = spawnService({
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://nobody@127.0.0.1:${deadPort}/none`,
      DATABASE_STARTUP_TIMEOUT: '3',
    });
    const code = await service.exited;
    expect(code).not.toBe(0);
    expect(service.output()).toMatch(/Unable to connect to the database/);
  });
});
