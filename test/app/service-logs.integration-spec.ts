import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { freePort, MAIN_JS, spawnService, ServiceProcess } from '../support/process';
import { MIGRATIONS } from '../../src/platform/database/migrations';

// The built service's output, read as an operator reads it: every line of a run, stdout and
// stderr apart. `npm test` builds the service first.
const WITHOUT_DEV = resolve(__dirname, '../support/without-dev-dependencies.cjs');
const START_DEADLINE_MS = 90_000;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const NEST_CHATTER = ['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication'];

interface Line {
  level: string;
  time: string;
  context?: string;
  msg: string;
  err?: unknown;
}

interface Run {
  service: ServiceProcess;
  stdout: () => string;
  stderr: () => string;
}

function run(env: Record<string, string>): Run {
  const service = spawnService(env);
  let stdout = '';
  let stderr = '';
  service.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  service.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { service, stdout: () => stdout, stderr: () => stderr };
}

/** Every line of `text`, each parsed as JSON: a line that is not JSON fails the test, named. */
function jsonLines(text: string): Line[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Line;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
}

/** Polls until the output holds a line matching `pattern`, or fails with what it holds. */
async function waitForLine({ service, stdout }: Run, pattern: RegExp, timeoutMs = START_DEADLINE_MS) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (pattern.test(stdout())) return;
    if (service.child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`no line matching ${String(pattern)}:\n${service.output()}`);
}

async function stop({ service }: Run): Promise<number | null> {
  if (service.child.exitCode === null) service.child.kill('SIGTERM');
  return service.exited;
}

/** The exit code, and the one line a failed start wrote on stderr, parsed. */
async function failure(started: Run): Promise<{ code: number | null; stderr: Line[] }> {
  const code = await started.service.exited;
  return { code, stderr: jsonLines(started.stderr()) };
}

describe('Service logs (the built service, as run by npm start)', () => {
  let folder: string;
  let base: Record<string, string>;
  const runs: Run[] = [];
  const start = (env: Record<string, string> = {}) => {
    const started = run({ ...base, ...env });
    runs.push(started);
    return started;
  };

  beforeAll(() => {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
  });

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'panora-webhooks-logs-'));
    base = {
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      DATA_DIR: join(folder, 'data'),
      SECRETS_KEY: TEST_SECRETS_KEY,
      LOG_LEVEL: 'info',
    };
  });

  afterEach(async () => {
    await Promise.all(runs.splice(0).map(stop));
    rmSync(folder, { recursive: true, force: true });
  });

  describe('with a database', () => {
    let db: TestDatabase;
    beforeEach(async () => {
      db = await createTestDatabase({ migrate: false });
    });
    afterEach(async () => {
      await db.drop();
    });

    it('should say where it listens in one line, after the migrations it applied, in JSON lines with level names and ISO times', async () => {
      const service = start({ DATABASE_URL: db.url });
      await waitForLine(service, /"msg":"listening on /);
      const lines = jsonLines(service.stdout());
      for (const line of lines) expect({ line, time: ISO_TIME.test(line.time) }).toEqual({ line, time: true });
      expect(lines.filter((line) => !['info', 'warn'].includes(line.level))).toEqual([]);

      const listening = lines.filter((line) => line.msg.startsWith('listening on'));
      expect(listening).toEqual([
        expect.objectContaining({
          level: 'info',
          context: 'Bootstrap',
          msg: `listening on http://127.0.0.1:${base.PORT} (docs /docs, metrics /metrics)`,
        }),
      ]);
      // Once the modules have started (the recovery schedule's line is one of the last they write).
      const modulesStarted = lines.findIndex((line) => line.context === 'RecoveryService');
      expect(modulesStarted).toBeGreaterThanOrEqual(0);
      expect(lines.indexOf(listening[0])).toBeGreaterThan(modulesStarted);
      const names = MIGRATIONS.map((migration) => (migration as { name: string }).name);
      expect(lines.filter((line) => /migration/.test(line.msg))).toEqual([
        expect.objectContaining({
          level: 'info',
          msg: `applied ${names.length} migrations: ${names.join(', ')}`,
        }),
      ]);
      // Nest's module wiring and route mapping are not there at info: a start is a few lines.
      expect(lines.filter((line) => NEST_CHATTER.includes(line.context ?? ''))).toEqual([]);
      expect(lines.length).toBeLessThanOrEqual(10);
      expect(service.stderr()).toBe('');

      expect(await stop(service)).toBe(0);
    });

    it("should log Nest's route mapping and an up-to-date schema at debug", async () => {
      await stop(await startedOnce(start({ DATABASE_URL: db.url })));
      const again = start({ DATABASE_URL: db.url, LOG_LEVEL: 'debug' });
      await waitForLine(again, /"msg":"listening on /);
      const lines = jsonLines(again.stdout());
      expect(lines.filter((line) => /migration/.test(line.msg))).toEqual([
        expect.objectContaining({ level: 'debug', context: 'Bootstrap', msg: 'no pending migrations' }),
      ]);
      const mapped = lines.filter((line) => line.context === 'RouterExplorer');
      expect(mapped).toContainEqual(
        expect.objectContaining({ level: 'debug', msg: 'Mapped {/health/live, GET} route' }),
      );
      expect(mapped.every((line) => line.level === 'debug')).toBe(true);
    });

    it('should refuse a port already taken with one JSON line saying to set PORT, exit 1', async () => {
      const holder: Server = createServer();
      await new Promise<void>((listening) => holder.listen(Number(base.PORT), '127.0.0.1', listening));
      try {
        const service = start({ DATABASE_URL: db.url });
        expect(await failure(service)).toEqual({
          code: 1,
          stderr: [
            expect.objectContaining({
              level: 'fatal',
              msg: `Port ${base.PORT} on 127.0.0.1 is already in use (EADDRINUSE): stop the process using it, or set PORT to a free port`,
            }),
          ],
        });
        // Everything else it wrote is JSON lines too, with no stack or Nest error among them.
        expect(jsonLines(service.stdout()).filter((line) => line.level !== 'info' && line.level !== 'warn')).toEqual(
          [],
        );
      } finally {
        await new Promise((closed) => holder.close(closed));
      }
    });

    it('should refuse a start-up failure inside Nest (a damaged secrets key file) with one JSON line, no coloured stack', async () => {
      // The development key file, damaged: SecretsModule refuses it while Nest builds the modules.
      mkdirSync(base.DATA_DIR, { recursive: true });
      writeFileSync(join(base.DATA_DIR, 'secrets.key'), 'not a key');
      const service = start({ DATABASE_URL: db.url, SECRETS_KEY: '' });
      expect(await failure(service)).toEqual({
        code: 1,
        stderr: [
          expect.objectContaining({
            level: 'fatal',
            msg: expect.stringMatching(/secrets\.key: expected 32 random bytes.*set SECRETS_KEY/),
          }),
        ],
      });
      expect(service.service.output()).not.toContain('\u001b['); // no terminal colours
      expect(service.service.output()).not.toMatch(/\n\s+at /); // no stack
      jsonLines(service.stdout()); // and nothing but JSON lines before it
    });

    it('should print pretty lines with LOG_PRETTY=true, pino-pretty installed', async () => {
      const service = start({ DATABASE_URL: db.url, LOG_PRETTY: 'true' });
      await waitForLine(service, /listening on /);
      const lines = service.stdout().trim().split('\n');
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: \\[Bootstrap\\] listening on http://127\\.0\\.0\\.1:${base.PORT} \\(docs /docs, metrics /metrics\\)$`,
        ),
      );
      expect(lines).toContainEqual(expect.stringMatching(/^\[[\d:.]+\] INFO: \[Bootstrap\] applied \d+ migrations: /));
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
    });
  });

  async function startedOnce(started: Run): Promise<Run> {
    await waitForLine(started, /listening on /);
    return started;
  }

  it('should refuse an invalid setting with one JSON line naming it, nothing on stdout, exit 1', async () => {
    const service = start({ PORT: 'abc', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(await failure(service)).toEqual({
      code: 1,
      stderr: [
        expect.objectContaining({
          level: 'fatal',
          context: 'Bootstrap',
          msg: 'Invalid configuration: PORT: expected a port number',
        }),
      ],
    });
    expect(service.stdout()).toBe('');
  });

  it('should give up on a database on a closed port with one JSON line naming DATABASE_STARTUP_TIMEOUT, exit 1', async () => {
    const closed = await freePort();
    const service = start({
      DATABASE_URL: `postgres://nobody@127.0.0.1:${closed}/none`,
      DATABASE_STARTUP_TIMEOUT: '2',
    });
    const { code, stderr } = await failure(service);
    expect({ code, stderr }).toEqual({
      code: 1,
      stderr: [
        expect.objectContaining({
          level: 'fatal',
          msg: expect.stringMatching(
            new RegExp(
              `^Start-up failed: Unable to connect to the database 127\\.0\\.0\\.1:${closed}/none: .*DATABASE_STARTUP_TIMEOUT`,
            ),
          ),
        }),
      ],
    });
    expect(stderr[0].err).toBeUndefined();
    // While it waited, it said so (at warn), in the same JSON lines.
    expect(jsonLines(service.stdout())).toEqual([
      expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/unreachable .*retrying/) }),
    ]);
  });

  it('should refuse LOG_PRETTY=true with one line where pino-pretty is not installed (no dev dependencies)', async () => {
    const service = start({
      LOG_PRETTY: 'true',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      WITHOUT_DEV: 'packages',
      NODE_OPTIONS: `--require=${WITHOUT_DEV}`,
    });
    expect(await failure(service)).toEqual({
      code: 1,
      stderr: [
        expect.objectContaining({
          level: 'fatal',
          msg: 'LOG_PRETTY=true needs the pino-pretty dev dependency: npm install, or unset LOG_PRETTY',
        }),
      ],
    });
    expect(service.stdout()).toBe('');
  });
});
