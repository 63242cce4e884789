import { randomBytes } from 'node:crypto';
import { TEST_SECRETS_KEY } from '../support/app';
import { baseDatabaseUrl, createTestDatabase, TestDatabase } from '../support/database';
import { waitFor } from '../support/panora';
import { freePort, ServiceProcess, spawnMigrate, spawnService, waitForOk } from '../support/process';
import { TcpProxy } from '../support/tcp-proxy';
import { MIGRATIONS } from '../../src/platform/database/migrations';
import { assertBuilt } from './support/build';

/** Starting a Nest app on a loaded two-core machine can take a while: generous, still bounded. */
const START_DEADLINE_MS = 90_000;
const ROUNDS = Number(process.env.REPLICA_ROUNDS ?? 4);

interface LogLine {
  level?: string;
  msg?: string;
  err?: unknown;
}

/** Every output line, parsed when it is JSON; `undefined` for a line that is not. */
function lines(service: ServiceProcess): { text: string; json?: LogLine }[] {
  return service
    .output()
    .split('\n')
    .filter((text) => text.trim() !== '')
    .map((text) => {
      try {
        return { text, json: JSON.parse(text) as LogLine };
      } catch {
        return { text };
      }
    });
}

const ERROR_LEVELS = ['error', 'fatal'];

/** Lines a reader would take for an error: level error or fatal, or anything that is not JSON. */
function errorLines(service: ServiceProcess): string[] {
  return lines(service)
    .filter(({ json }) => json === undefined || ERROR_LEVELS.includes(json.level ?? ''))
    .map(({ text }) => text);
}

function withDatabase(url: string, database: string, user?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user) parsed.username = user;
  return parsed.toString();
}

/** The exit code, or 'still running' when the process has not exited after `ms`. */
async function exitWithin(service: ServiceProcess, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)));
  try {
    return await Promise.race([service.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function stopAll(services: ServiceProcess[]): Promise<(number | null)[]> {
  for (const service of services) {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
  }
  return Promise.all(services.map((service) => service.exited));
}

describe('Fault: replicas start together, and start-up meets a database it cannot use', () => {
  const running: ServiceProcess[] = [];

  const start = async (env: Record<string, string>) => {
    const port = await freePort();
    const service = spawnService({ PORT: String(port), SECRETS_KEY: TEST_SECRETS_KEY, LOG_LEVEL: 'info', ...env });
    running.push(service);
    return { service, ready: `http://127.0.0.1:${port}/health/ready` };
  };

  beforeAll(() => assertBuilt());

  afterAll(async () => {
    for (const service of running) {
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    }
    await Promise.all(running.map((service) => service.exited));
  });

  it('should bring three instances (and a migration:run) up on one empty database, each migration applied once, no error line', async () => {
    // Each round is a fresh empty database and three processes spawned at the same moment: the
    // migrations race is run several times, not once by luck. In the last round an operator's
    // `npm run migration:run` joins (it starts faster, so only there: the others race each other).
    // Every round runs to the end before the checks, so that a race lost in any round shows first.
    const seen: { round: number; errors: string[]; migrate?: { code: number | null; output: string } }[] = [];
    const checks: { round: number; migrations: string[]; applied: string[]; stopped: (number | null)[] }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const db: TestDatabase = await createTestDatabase({ migrate: false });
      try {
        const replicas = await Promise.all([1, 2, 3].map(() => start({ DATABASE_URL: db.url })));
        const migrate = round === ROUNDS ? spawnMigrate({ DATABASE_URL: db.url }) : undefined;
        for (const { service, ready } of replicas) await waitForOk(ready, service, START_DEADLINE_MS);
        const outputs = replicas.map(({ service }) => service);
        seen.push({
          round,
          errors: outputs.flatMap(errorLines),
          migrate: migrate && { code: await migrate.exited, output: migrate.output() },
        });
        const rows = await db.query<{ name: string }>('SELECT name FROM typeorm_migrations ORDER BY id');
        checks.push({
          round,
          migrations: rows.map((row) => row.name),
          // One of them applied the migrations and said so in one line; the others found none pending.
          applied: [
            ...outputs.flatMap((service) => lines(service).map(({ json }) => json?.msg ?? '')),
            ...(migrate?.output().split('\n') ?? []),
          ]
            .filter((line) => /^applied \d+ migrations?\b/i.test(line))
            .map((line) => line.split(':')[0]),
          stopped: await stopAll(outputs),
        });
      } finally {
        await db.drop();
      }
    }

    expect(seen.filter(({ errors }) => errors.length > 0)).toEqual([]);
    const names = MIGRATIONS.map((migration) => (migration as { name: string }).name);
    for (const { round, migrate } of seen.filter((s) => s.migrate)) {
      expect({ round, code: migrate?.code }).toEqual({ round, code: 0 });
      expect(migrate?.output).toMatch(/^(Applied \d+ migrations?: .+|No pending migrations)$/m);
    }
    for (const { round, migrations, applied, stopped } of checks) {
      expect({ round, migrations, applied, stopped }).toEqual({
        round,
        migrations: names,
        applied: [expect.stringMatching(new RegExp(`^applied ${String(MIGRATIONS.length)} migrations$`, 'i'))],
        stopped: [0, 0, 0],
      });
    }
  });

  it.each([
    [
      'a database that does not exist',
      () => withDatabase(baseDatabaseUrl(), `pw_missing_${randomBytes(4).toString('hex')}`),
      /does not exist/,
    ],
    [
      'a user the server does not know',
      () => withDatabase(baseDatabaseUrl(), 'postgres', `pw_nobody_${randomBytes(4).toString('hex')}`),
      /pw_nobody_/,
    ],
  ])('should stop at once with exit code 1 and one JSON line, no stack, on %s', async (_what, url, reason) => {
    // A permanent error: no amount of waiting fixes it, so the timeout must not be waited out.
    const { service } = await start({ DATABASE_URL: url(), DATABASE_STARTUP_TIMEOUT: '600' });
    const code = await exitWithin(service, 60_000);
    expect({ code, output: service.output() }).toEqual({ code: 1, output: expect.any(String) });

    const errors = errorLines(service);
    expect(errors).toHaveLength(1);
    const [failure] = lines(service).filter(({ json }) => ERROR_LEVELS.includes(json?.level ?? ''));
    expect(failure.json?.msg).toMatch(reason);
    expect(failure.json?.msg).toMatch(/DATABASE_URL/);
    expect(failure.json?.err).toBeUndefined();
    expect(service.output()).not.toMatch(/\n\s+at /);
    expect(service.output()).not.toContain('Retrying');
  });

  it('should wait for a database that is not reachable yet, and start once it is', async () => {
    const db = await createTestDatabase({ migrate: false });
    const proxy = await TcpProxy.forUrl(db.url).start();
    try {
      proxy.cut(); // connections refused until restored
      const { service, ready } = await start({ DATABASE_URL: proxy.rewrite(db.url), DATABASE_STARTUP_TIMEOUT: '600' });
      await waitFor(
        async () => lines(service).some(({ json }) => /unreachable/i.test(json?.msg ?? '')),
        START_DEADLINE_MS,
        'a line saying the database is unreachable, still waiting',
      );
      expect(service.child.exitCode).toBeNull();
      proxy.restore();
      await waitForOk(ready, service, START_DEADLINE_MS);
      expect(errorLines(service)).toEqual([]);
      expect(await stopAll([service])).toEqual([0]);
    } finally {
      await proxy.stop();
      await db.drop();
    }
  });

  it('should give up on an unreachable database after DATABASE_STARTUP_TIMEOUT with one JSON line', async () => {
    const proxy = await TcpProxy.forUrl(baseDatabaseUrl()).start();
    try {
      proxy.cut();
      const { service } = await start({
        DATABASE_URL: proxy.rewrite(baseDatabaseUrl()),
        DATABASE_STARTUP_TIMEOUT: '3',
      });
      expect(await service.exited).toBe(1);
      const errors = errorLines(service);
      expect(errors).toHaveLength(1);
      expect(JSON.parse(errors[0]).msg).toMatch(/unreachable after 3 s/);
      expect(service.output()).not.toMatch(/\n\s+at /);
    } finally {
      await proxy.stop();
    }
  });
});
