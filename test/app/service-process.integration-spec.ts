import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { delivery } from '../support/panora';
import { freePort, MAIN_JS, ServiceProcess, spawnService, waitForOk } from '../support/process';

// These tests run the built service the way `npm start` does (`npm test` builds it first).
const built = existsSync(MAIN_JS);
const MIGRATE_JS = resolve(MAIN_JS, '..', 'platform', 'database', 'migrate.js');
const ADMIN_KEY = 'service-process-admin-key-0123456789';
/** initdb and a first start on a busy 2-core machine can take a while: generous, still bounded. */
const START_DEADLINE_MS = 60_000;

/** Polls until `check` returns true, or throws `message` after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, message: () => string, timeoutMs = 30_000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`${message()} (after ${timeoutMs} ms)`);
}

/** Opens a TCP connection: true when the port accepted it, false when it refused it. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveAccepts(true);
    });
    socket.once('error', () => resolveAccepts(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The stderr of a service, apart from its stdout (listen before anything can arrive). */
function stderrOf(service: ServiceProcess): () => string {
  let text = '';
  service.child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

/**
 * The level and message of each line of `text`, parsed as JSON (a line that is not JSON fails the
 * test): a refused start writes exactly one, at fatal.
 */
function logLines(text: string): { level: string; msg: string }[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const { level, msg } = JSON.parse(line) as { level: string; msg: string };
      return { level, msg };
    });
}

describe('Service process (npm start)', () => {
  beforeAll(() => {
    if (!built) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
  });

  describe('with the embedded PostgreSQL (DATABASE_URL unset)', () => {
    let dataDir: string;
    let clusterDir: string;
    let env: Record<string, string>;
    let ready: string;
    let endpoint: { id: string; secret: string };
    const running: ChildProcess[] = [];

    const start = (extra: Record<string, string> = {}) => {
      const service = spawnService({ ...env, ...extra });
      running.push(service.child);
      return service;
    };
    const postmasterPid = () => Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'panora-webhooks-'));
      clusterDir = join(dataDir, 'postgres');
      env = {
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        LOG_LEVEL: 'info',
        ADMIN_API_KEYS: ADMIN_KEY,
        // The in-flight request below is finished by hand after SIGTERM: no hurry to exit.
        SHUTDOWN_TIMEOUT_MS: '60000',
      };
      ready = `http://127.0.0.1:${env.PORT}/health/ready`;
    });

    afterAll(() => {
      for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('should become ready on a fresh data folder with a generated secrets key, and survive SIGKILL', async () => {
      const first = start();
      await waitForOk(ready, first, START_DEADLINE_MS);
      expect(first.output()).toContain(`Embedded PostgreSQL listening on 127.0.0.1:${env.EMBEDDED_POSTGRES_PORT}`);
      expect(existsSync(join(clusterDir, 'PG_VERSION'))).toBe(true);
      // Outside production an unset SECRETS_KEY is generated into DATA_DIR, with a warning.
      const keyFile = join(dataDir, 'secrets.key');
      expect(first.output()).toContain(`SECRETS_KEY is unset: generated a development key in ${keyFile}`);
      const key = readFileSync(keyFile, 'utf8');

      // An endpoint whose secret is sealed with that key.
      const secret = 'f3b0c8a2-5d1e-4c3b-9a7f-2e6d8c4b1a90';
      const imported = await fetch(`http://127.0.0.1:${env.PORT}/admin/endpoints/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ secret, scope: ['connection.created'] }),
      });
      expect(imported.status).toBe(201);
      endpoint = { id: ((await imported.json()) as { id: string }).id, secret };

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
      expect(existsSync(join(clusterDir, 'postmaster.pid'))).toBe(true);
      const leftover = postmasterPid();

      const second = start();
      await waitForOk(ready, second, START_DEADLINE_MS);
      expect(second.output()).not.toContain('Initialising embedded PostgreSQL');
      expect(second.output()).toContain(
        `A previous embedded PostgreSQL (pid ${leftover}) is still running; stopping it`,
      );
      expect(isAlive(leftover)).toBe(false);
      const again = new Client({ connectionString: url });
      await again.connect();
      expect((await again.query('SELECT id FROM crash_marker')).rows).toEqual([{ id: 42 }]);
      await again.end();
      // The generated key is reused, not replaced.
      expect(second.output()).not.toContain('generated a development key');
      expect(readFileSync(keyFile, 'utf8')).toBe(key);

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });

    it('should finish a request in flight on SIGTERM, refuse new connections, then stop the database', async () => {
      const service = start();
      await waitForOk(ready, service, START_DEADLINE_MS);

      // A signed delivery whose headers are in (the server answered 100 Continue) and whose body
      // is sent only once the shutdown has begun.
      const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: { id_connection: 'c-1' } });
      const req = request({
        host: '127.0.0.1',
        port: Number(env.PORT),
        method: 'POST',
        path: `/webhooks/panora/${endpoint.id}`,
        headers: { ...d.headers, 'content-length': String(Buffer.byteLength(d.body)), expect: '100-continue' },
        agent: false,
      });
      const answer = new Promise<{ status: number; body: string }>((resolveAnswer, reject) => {
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      const continued = new Promise((resolveContinue) => req.once('continue', resolveContinue));
      req.flushHeaders();
      await continued;

      service.child.kill('SIGTERM');
      await until(
        () => service.output().includes('SIGTERM received'),
        () => `no shutdown log line:\n${service.output()}`,
      );
      await until(
        async () => !(await accepts(Number(env.PORT))),
        () => 'the service still accepts new connections during its shutdown',
      );
      expect(service.child.exitCode).toBeNull(); // still finishing the request in flight

      req.end(d.body);
      // The normal answer: stored (and the secret, sealed by the first run, opened with the reused key).
      expect(await answer).toEqual({ status: 200, body: JSON.stringify({ received: true }) });
      expect(await service.exited).toBe(0);
      // The embedded server was stopped with the service, and the folder released.
      expect(existsSync(join(clusterDir, 'postmaster.pid'))).toBe(false);
      // The claim of DATA_DIR is kept but released (src/dev/data-dir-claims.ts, DataDirClaims.take).
      const owners = join(dataDir, 'postgres.owners');
      const claims = readdirSync(owners).filter((name) => /^\d+$/.test(name));
      expect(claims.length).toBeGreaterThan(0);
      const newest = String(Math.max(...claims.map(Number)));
      expect(JSON.parse(readFileSync(join(owners, newest), 'utf8'))).toMatchObject({ released: true });
    });

    it('should refuse a second start on the same DATA_DIR while the first runs, and run migrations on its database', async () => {
      const first = start();
      await waitForOk(ready, first, START_DEADLINE_MS);
      const postmaster = postmasterPid();

      const second = start({ PORT: String(await freePort()) });
      const secondErr = stderrOf(second);
      expect(await second.exited).toBe(1);
      expect(logLines(secondErr())).toEqual([
        {
          level: 'fatal',
          msg: `The embedded database in ${clusterDir} is in use by process ${first.child.pid}; stop it first or set DATABASE_URL`,
        },
      ]);

      // `npm run migration:run` uses the running service's server instead of stopping it.
      const migrate = spawn(process.execPath, [MIGRATE_JS, 'run'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.push(migrate);
      let migrateOutput = '';
      migrate.stdout.on('data', (chunk: Buffer) => (migrateOutput += chunk.toString()));
      migrate.stderr.on('data', (chunk: Buffer) => (migrateOutput += chunk.toString()));
      const migrateCode = await new Promise<number | null>((resolveExit) => migrate.on('exit', resolveExit));
      expect({ code: migrateCode, output: migrateOutput }).toEqual({
        code: 0,
        output: expect.stringContaining('No pending migrations'),
      });
      expect(migrateOutput).toContain(`Using the embedded PostgreSQL of process ${first.child.pid}`);

      // The first service and its database are untouched.
      expect(postmasterPid()).toBe(postmaster);
      expect(isAlive(postmaster)).toBe(true);
      expect((await fetch(ready)).status).toBe(200);
      expect(first.child.exitCode).toBeNull();

      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    });

    it('should start over a postmaster.pid and an owner record naming an unrelated live process, leaving it alone', async () => {
      // After a reboot or a container restart the pids in both files may belong to anything.
      const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
      running.push(unrelated);
      const pid = unrelated.pid!;
      writeFileSync(
        join(clusterDir, 'postmaster.pid'),
        `${pid}\n${clusterDir}\n${Math.floor(Date.now() / 1000)}\n${env.EMBEDDED_POSTGRES_PORT}\n\n127.0.0.1\n  0 0\nready   \n`,
      );
      writeFileSync(join(dataDir, 'postgres.owner'), JSON.stringify({ pid, startTime: '1', bootId: null }));

      const service = start();
      await waitForOk(ready, service, START_DEADLINE_MS);
      expect(service.output()).toContain(`postmaster.pid names process ${pid}, which is not a PostgreSQL server`);
      expect(unrelated.exitCode).toBeNull();
      expect(unrelated.signalCode).toBeNull();
      expect(isAlive(pid)).toBe(true);

      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      expect(isAlive(pid)).toBe(true);
      unrelated.kill('SIGKILL');
    });
  });

  it('should refuse a bad configuration with one JSON line naming the key, exit code 1', async () => {
    const service = spawnService({ PORT: 'abc', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(await service.exited).toBe(1);
    expect(logLines(service.output())).toEqual([
      { level: 'fatal', msg: expect.stringMatching(/^Invalid configuration: PORT: /) as string },
    ]);
  });

  it.each([
    [
      'NODE_ENV=production without SECRETS_KEY',
      { NODE_ENV: 'production' },
      /^SECRETS_KEY: required when NODE_ENV=production/,
    ],
    ['a SECRETS_KEY that is not 32 bytes', { SECRETS_KEY: 'c2hvcnQ=' }, /^SECRETS_KEY: expected 32 random bytes/],
  ])('should refuse %s with one JSON line naming it, before anything starts', async (_, extra, problem) => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'panora-webhooks-')), 'data');
    try {
      const service = spawnService({ DATA_DIR: dataDir, PORT: String(await freePort()), ...extra });
      const stderr = stderrOf(service);
      expect(await service.exited).toBe(1);
      expect(stderr()).toMatch(/^[^\n]*\n$/); // one line
      const [line] = logLines(stderr());
      expect(line).toEqual({ level: 'fatal', msg: expect.stringMatching(/^Invalid configuration: /) as string });
      expect(line.msg.replace('Invalid configuration: ', '')).toMatch(problem);
      expect(service.output()).toBe(stderr()); // nothing on stdout either
      expect(existsSync(dataDir)).toBe(false); // no database, no key file
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
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
