import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { TcpProxy } from '../support/tcp-proxy';
import { TestListeners, TestListenersModule } from '../support/test-listeners';

/** The built CLI, as `npx panora-webhooks` runs it (npm test builds first). */
const CLI = resolve(__dirname, '../../dist/src/cli/main.js');
const ADMIN_KEY = 'cli-events-admin-key-0123456789';

/** A CLI process that keeps running (tail, listen): its output read line by line as it comes. */
class Running {
  readonly lines: string[] = [];
  stderr = '';
  exit?: number | null;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string>, cwd: string) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd, env });
    let buffer = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      this.lines.push(...parts);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.on('exit', (code) => (this.exit = code));
  }

  line(match: (line: string) => boolean, what: string) {
    return waitFor(
      async () => this.lines.find(match),
      30_000,
      `${what}; stdout so far:\n${this.lines.join('\n')}\n${this.stderr}`,
    );
  }

  /** Ctrl-C; answers the exit code. */
  async interrupt() {
    this.child.kill('SIGINT');
    await waitFor(async () => this.exit !== undefined, 10_000, 'the CLI to exit');
    return this.exit;
  }

  kill() {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }
}

describe('The CLI following events: events tail, listen, replay', () => {
  let db: TestDatabase;
  let service: TestApp;
  let listeners: TestListeners;
  let endpoint: { id: string; secret: string };
  let cwd: string;
  let proxy: TcpProxy;
  const running: Running[] = [];

  const env = (url = service.baseUrl) => ({
    PATH: process.env.PATH ?? '',
    HOME: cwd,
    PANORA_WEBHOOKS_URL: url,
    ADMIN_API_KEY: ADMIN_KEY,
  });
  const start = (args: string[], url?: string) => {
    const run = new Running(args, env(url), cwd);
    running.push(run);
    return run;
  };
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((done) =>
      execFile(process.execPath, [CLI, ...args], { cwd, env: env(), timeout: 60_000 }, (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      ),
    );
  const send = async (type = 'connection.created', payload: unknown = connectionPayload()) => {
    const d = delivery({ secret: endpoint.secret, type, payload });
    expect((await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    const [row] = await db.query<{ id: string }>('SELECT id::text FROM webhook_events WHERE id_event = $1', [
      d.idEvent,
    ]);
    return { id: row.id, idEvent: d.idEvent };
  };

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    cwd = mkdtempSync(join(tmpdir(), 'panora-cli-events-'));
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: { ADMIN_API_KEYS: ADMIN_KEY, WEBHOOK_MAX_ATTEMPTS: '1' },
    });
    listeners = service.app.get(TestListeners);
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.deal.created'] });
    proxy = await new TcpProxy('127.0.0.1', Number(new URL(service.baseUrl).port)).start();
  });

  afterEach(() => {
    for (const run of running.splice(0)) run.kill();
  });

  afterAll(async () => {
    await proxy?.stop();
    await service?.close();
    await db?.drop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('events tail prints each event as it is processed, survives a dropped connection without a gap or a repeat, and exits 0 on Ctrl-C', async () => {
    const tail = start(['--json', 'events', 'tail', '--status', 'processed'], proxy.rewrite(service.baseUrl));
    // The stream starts when tail connects.
    await waitFor(async () => tail.stderr.includes('Following events'), 30_000, 'tail to connect');
    const a = await send();
    await tail.line((l) => l.includes(`"id":"${a.id}"`), 'event a');

    proxy.cut();
    const b = await send(); // while the connection is down
    await waitFor(async () => tail.stderr.includes('stream interrupted'), 30_000, 'tail to notice the drop');
    proxy.restore();
    await tail.line((l) => l.includes(`"id":"${b.id}"`), 'event b, sent while disconnected');
    const c = await send();
    await tail.line((l) => l.includes(`"id":"${c.id}"`), 'event c, after the reconnect');
    expect(tail.stderr).toContain('Reconnected.');

    const printed = tail.lines.map((l) => JSON.parse(l) as { cursor: string; id: string; event: string });
    expect(printed.every((p) => p.event === 'processed')).toBe(true);
    const ids = printed.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length); // no repeat across the reconnect
    expect(tail.stderr).toMatch(/reconnecting in \d+\.\d s from \d+-\d+/);
    expect(await tail.interrupt()).toBe(0);
  });

  it('events tail refuses a bad filter with the service’s message and exit code 1', async () => {
    const run = await cli(['events', 'tail', '--status', 'bogus']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('status must be one of: received, processing, processed, failed, dead');
  });

  it('listen forwards each new event to a local URL, signed as Panora signs with the secret it printed', async () => {
    const received: { signature: string; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ signature: String(req.headers['panora-signature']), body });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const hook = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/panora`;
      const listen = start(['listen', '--forward-to', hook, '--type', 'connection.created']);
      const secretLine = await listen.line((l) => l.startsWith('Signing secret: '), 'the secret');
      const secret = secretLine.slice('Signing secret: '.length);
      expect(secret).toMatch(/^[0-9a-f-]{36}$/);

      await waitFor(async () => listen.stderr.includes('Ready. Forwarding events to'), 30_000, 'listen to connect');
      const payload = connectionPayload();
      const last = await send('connection.created', payload);
      await waitFor(async () => received.find((r) => r.body.includes(last.idEvent)), 30_000, 'the forward of the last');
      const forward = received.find((r) => r.body.includes(last.idEvent))!;
      const body = JSON.parse(forward.body) as { id_event: string; type: string; data: string };
      expect(body.id_event).toBe(last.idEvent);
      expect(body.type).toBe('connection.created');
      expect(typeof body.data).toBe('string');
      expect(forward.signature).toBe(createHmac('sha256', secret).update(JSON.stringify(body.data)).digest('hex'));
      const data = JSON.parse(body.data) as Record<string, unknown>;
      expect(data.id_connection).toBe(payload.id_connection);
      expect(forward.body).not.toContain(payload.connection_token); // credentials redacted
      await listen.line((l) => l.includes(`#${last.id}`) && l.includes('[204]'), 'the forward’s status');
      // Each event once, whatever states it went through.
      expect(received.filter((r) => r.body.includes(last.idEvent))).toHaveLength(1);
      expect(await listen.interrupt()).toBe(0);
    } finally {
      server.close();
    }
  });

  it('replay --dead counts first, refuses to run unasked off a terminal, and with --yes replays in one call with a progress bar', async () => {
    listeners.brokenHealed = false;
    const deals = [await send('crm.deal.created', { id: 'd-1' }), await send('crm.deal.created', { id: 'd-2' })];
    const statuses = async () =>
      (
        await db.query<{ status: string }>(
          `SELECT status FROM webhook_events WHERE id = ANY($1::bigint[]) ORDER BY id`,
          [deals.map((d) => d.id)],
        )
      ).map((r) => r.status);
    await waitFor(async () => (await statuses()).every((s) => s === 'dead'), 30_000, 'the deals to die');

    const dry = await cli(['replay', '--dead', '--type', 'crm.deal.created', '--since', '1h', '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stdout: '2 dead events to replay.\n' });
    expect(await statuses()).toEqual(['dead', 'dead']);

    const unasked = await cli(['replay', '--dead', '--type', 'crm.deal.created']);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toContain('pass --yes');
    expect(await statuses()).toEqual(['dead', 'dead']);

    listeners.brokenHealed = true;
    const run = await cli(['--json', 'replay', '--dead', '--type', 'crm.deal.created', '--yes']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ queued: 2, skipped: 0, processed: 2, failed: 0, dead: 0, waiting: 0 });
    expect(run.stderr).toMatch(/Replaying dead events \[[█░]+\] 2\/2 100%/);
    expect(await statuses()).toEqual(['processed', 'processed']);
  });
});
