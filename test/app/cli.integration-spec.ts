import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { waitFor } from '../support/panora';

/** The built CLI, as `npx panora-webhooks` and `npm run cli` run it (npm test builds first). */
const CLI = resolve(__dirname, '../../dist/src/cli/main.js');
const ADMIN_KEY = 'cli-admin-key-0123456789';
const READ_KEY = 'cli-read-only-key-0123456789';

/** A URL nothing listens on: a port the system just handed out, closed again. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolveClose) => server.close(resolveClose));
  return `http://127.0.0.1:${port}`;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('The CLI (panora-webhooks …) against a running service', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  let cwd: string;
  const outputs: string[] = [];

  /** Runs the CLI in a scratch folder with only the variables given (no .env, no admin key unless passed). */
  const cli = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolveRun) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        {
          cwd,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: cwd,
            PANORA_WEBHOOKS_URL: service.baseUrl,
            ADMIN_API_KEY: ADMIN_KEY,
            ...env,
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          outputs.push(stdout, stderr);
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolveRun({ code, stdout, stderr });
        },
      );
    });
  const ok = async (args: string[], env?: Record<string, string>) => {
    const run = await cli(args, env);
    if (run.code !== 0) throw new Error(`panora-webhooks ${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
    return run;
  };
  const importEndpoint = async (scope = ['connection.created', 'crm.company.created']) => {
    const panora = fake.addWebhook({ url: 'https://hooks.example.com/panora', scope });
    const run = await ok([
      '--json',
      'endpoints',
      'import',
      '--secret',
      panora.secret,
      '--panora-id',
      panora.id_webhook_endpoint,
      '--scope',
      scope.join(','),
    ]);
    return { endpoint: JSON.parse(run.stdout) as { id: string; receiveUrl: string }, panora };
  };

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    cwd = mkdtempSync(join(tmpdir(), 'panora-cli-'));
    db = await createTestDatabase();
    fake = await FakePanora.start('panora-key');
    service = await startTestApp({
      databaseUrl: db.url,
      env: {
        ADMIN_API_KEYS: `other-key-0123456789,${ADMIN_KEY}`,
        ADMIN_READ_API_KEYS: READ_KEY,
        PANORA_BASE_URL: fake.url,
        PANORA_API_KEY: 'panora-key',
        DISPATCH_POLL_MS: '100',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '50',
      },
    });
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  afterAll(() => {
    // Whatever happened above: no secret Panora handed out was ever printed.
    for (const text of outputs) for (const secret of fake.issuedSecrets) expect(text).not.toContain(secret);
  });

  describe('endpoints', () => {
    it('should import an endpoint from Panora and say which URL to give Panora', async () => {
      const panora = fake.addWebhook({ url: 'https://hooks.example.com/panora', scope: ['connection.created'] });
      const run = await ok([
        'endpoints',
        'import',
        '--secret',
        panora.secret,
        '--panora-id',
        panora.id_webhook_endpoint,
        '--scope',
        'connection.created',
      ]);
      const [row] = await db.query<{ id: string; panora_endpoint_id: string }>(
        'SELECT id, panora_endpoint_id FROM webhook_endpoints WHERE panora_endpoint_id = $1',
        [panora.id_webhook_endpoint],
      );
      expect(row).toBeDefined();
      // PUBLIC_BASE_URL defaults to http://localhost:${PORT}.
      expect(run.stdout).toContain(
        `Imported. Give Panora this URL for the endpoint: http://localhost:3000/webhooks/panora/${row.id}`,
      );
      expect(run.stdout).toMatch(new RegExp(`id:\\s+${row.id}`));
      expect(run.stdout).toContain(`…${panora.secret.slice(-4)} (current)`);
    });

    it('should read the secret from standard input with --secret -', async () => {
      const panora = fake.addWebhook({ url: 'https://hooks.example.com/stdin', scope: ['connection.created'] });
      const run = await new Promise<Run>((resolveRun) => {
        const child = execFile(
          process.execPath,
          [CLI, '--json', 'endpoints', 'import', '--secret', '-', '--panora-id', panora.id_webhook_endpoint],
          {
            cwd,
            env: { PATH: process.env.PATH ?? '', PANORA_WEBHOOKS_URL: service.baseUrl, ADMIN_API_KEY: ADMIN_KEY },
          },
          (error, stdout, stderr) => resolveRun({ code: error ? 1 : 0, stdout, stderr }),
        );
        child.stdin!.end(`${panora.secret}\n`);
      });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout).secrets[0].hint).toBe(panora.secret.slice(-4));
    });

    it('should list endpoints as a table, and as JSON with --json', async () => {
      const { endpoint } = await importEndpoint();
      const run = await ok(['endpoints', 'list']);
      const lines = run.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ID\s+ACTIVE\s+SCOPE\s+PANORA ID\s+SECRET\s+RECEIVE URL$/);
      expect(lines.find((line) => line.startsWith(endpoint.id))).toMatch(/\syes\s+connection\.created,crm\.company/);

      const json = JSON.parse((await ok(['--json', 'endpoints', 'list'])).stdout);
      expect(json.map((e: { id: string }) => e.id)).toContain(endpoint.id);
    });

    it('should register, disable, enable, rotate and delete through Panora', async () => {
      const registered = JSON.parse(
        (
          await ok([
            '--json',
            'endpoints',
            'register',
            '--scope',
            'crm.deal.created',
            '--receive-url',
            'https://hooks.example.com/deals',
          ])
        ).stdout,
      );
      expect(fake.requestsTo('POST', '/webhooks').at(-1)?.body).toEqual({
        url: 'https://hooks.example.com/deals',
        scope: ['crm.deal.created'],
      });
      const id: string = registered.id;

      expect((await ok(['endpoints', 'disable', id])).stdout).toMatch(/^Disabled\.\n[\s\S]*active:\s+no/);
      expect(fake.webhooks.get(registered.panoraEndpointId)?.active).toBe(false);
      expect((await ok(['endpoints', 'enable', id])).stdout).toMatch(/active:\s+yes/);
      expect(fake.webhooks.get(registered.panoraEndpointId)?.active).toBe(true);

      const rotated = await ok(['endpoints', 'rotate', id]);
      expect(rotated.stdout).toContain(`Rotated: Panora endpoint ${registered.panoraEndpointId} → `);
      expect(rotated.stdout).toContain('The previous endpoint is disabled at Panora.');

      const refused = await cli(['endpoints', 'delete', id]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('add --yes to confirm');
      expect((await ok(['endpoints', 'delete', id, '--yes'])).stdout).toContain(`Deleted endpoint ${id}`);
      const [row] = await db.query<{ deleted_at: Date | null }>(
        'SELECT deleted_at FROM webhook_endpoints WHERE id = $1',
        [id],
      );
      expect(row.deleted_at).not.toBeNull();
    });
  });

  describe('send-test-event', () => {
    it('should sign a connection.created like Panora, show it processed, and the connection token be readable', async () => {
      const { endpoint } = await importEndpoint();
      const run = await ok(['send-test-event', '--endpoint', endpoint.id, '--type', 'connection.created']);
      expect(run.stderr).toMatch(
        /Sent a signed connection\.created .* the receive route answered 200 \{"received":true\}/,
      );
      expect(run.stdout).toMatch(/status:\s+processed/);
      expect(run.stdout).toMatch(/connections\.store\s+succeeded\s+1/);

      const idConnection = /Connection (\S+) is stored/.exec(run.stdout)?.[1];
      expect(idConnection).toBeDefined();
      const [connection] = await db.query<{ provider_slug: string; source: string }>(
        'SELECT provider_slug, source FROM connections WHERE id_connection = $1',
        [idConnection],
      );
      expect(connection).toEqual({ provider_slug: 'hubspot', source: 'webhook' });

      const token = (await ok(['connections', 'token', idConnection!])).stdout.trim();
      expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const viaApi = await fetch(`${service.baseUrl}/admin/connections/${idConnection}/token`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(((await viaApi.json()) as { connectionToken: string }).connectionToken).toBe(token);
      // The stored event went through the real receive route: signature checked, token sealed.
      const [event] = await db.query<{ type: string; payload: string }>(
        'SELECT type, payload::text AS payload FROM webhook_events WHERE endpoint_id = $1 ORDER BY id DESC LIMIT 1',
        [endpoint.id],
      );
      expect(event.type).toBe('connection.created');
      expect(event.payload).not.toContain(token);

      const connections = await ok(['connections', 'list']);
      expect(connections.stdout).toContain(idConnection);
      expect(connections.stdout).toContain(`…${token.slice(-4)}`);
    });

    it('should deliver crm.company.created as Panora does (crm.company.push) and project it', async () => {
      const { endpoint } = await importEndpoint();
      const run = await ok(['--json', 'send-test-event', '--endpoint', endpoint.id, '--type', 'crm.company.created']);
      const { sent, event } = JSON.parse(run.stdout);
      expect(sent.deliveredType).toBe('crm.company.push');
      expect(event.status).toBe('processed');
      const [company] = await db.query<{ name: string }>(
        "SELECT name FROM crm_objects WHERE kind = 'company' AND panora_id = $1",
        [event.payload.id],
      );
      expect(company.name).toMatch(/^Analytical Engines /);
    });

    it('should fail readably for an unknown endpoint, a type Panora does not offer, a bad key or no service', async () => {
      const unknown = await cli(['send-test-event', '--endpoint', randomUUID()]);
      expect(unknown.code).toBe(4);
      expect(unknown.stderr).toMatch(
        /^error: POST \/admin\/endpoints\/\S+\/test-event answered 404: Unknown, disabled/,
      );

      const { endpoint } = await importEndpoint();
      const badType = await cli(['send-test-event', '--endpoint', endpoint.id, '--type', 'crm.contact.exploded']);
      expect(badType.code).toBe(1);
      expect(badType.stderr).toContain('answered 400: type must be an event type Panora offers');

      const badKey = await cli(['endpoints', 'list'], { ADMIN_API_KEY: 'wrong' });
      expect(badKey.code).toBe(3);
      expect(badKey.stderr).toContain('answered 401: Unknown admin key');

      const noKey = await cli(['endpoints', 'list'], { ADMIN_API_KEY: '' });
      expect(noKey.code).toBe(3);
      expect(noKey.stderr).toContain('No admin key');

      const url = await closedPortUrl();
      const down = await cli(['endpoints', 'list'], { PANORA_WEBHOOKS_URL: url });
      expect(down.code).toBe(5);
      expect(down.stderr).toBe(
        `error: Cannot reach the service at ${url} (ECONNREFUSED). Is it running (npm start)? Point --url or PANORA_WEBHOOKS_URL at it.\n`,
      );
    });

    it('should take the admin key from ADMIN_API_KEYS as the service does', async () => {
      const run = await ok(['endpoints', 'list'], { ADMIN_API_KEY: '', ADMIN_API_KEYS: ` ${ADMIN_KEY} ,other` });
      expect(run.stdout).toMatch(/^ID\s+ACTIVE/);
    });
  });

  describe('events and replay', () => {
    let endpointId: string;

    beforeAll(async () => {
      endpointId = (await importEndpoint()).endpoint.id;
    });

    it('should list events and show one with its listeners and a redacted payload', async () => {
      const sent = JSON.parse(
        (await ok(['--json', 'send-test-event', '--endpoint', endpointId, '--type', 'connection.created'])).stdout,
      ).sent;
      const list = await ok(['events', 'list', '--endpoint', endpointId, '--limit', '5']);
      expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+TYPE\s+ATTEMPTS\s+RECEIVED \(UTC\)\s+ENDPOINT/);
      expect(list.stdout).toMatch(new RegExp(`^${sent.eventId}\\s+processed\\s+connection\\.created`, 'm'));

      const shown = await ok(['events', 'show', sent.eventId]);
      expect(shown.stdout).toMatch(/type:\s+connection\.created/);
      expect(shown.stdout).toContain('"connection_token": "[redacted]"');
      expect(shown.stdout).toMatch(/connections\.store\s+succeeded/);
    });

    it('should replay every dead event with a progress bar', async () => {
      const dead = await db.query<{ id: string }>(
        `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, status, attempts, last_error)
         SELECT $1, gen_random_uuid()::text, 'crm.note.push', 'crm.note.created', $2::jsonb, 'dead', 8, 'crm: boom'
           FROM generate_series(1, 3) RETURNING id::text AS id`,
        [endpointId, JSON.stringify({ id: randomUUID(), content: 'A note', modified_at: '2026-11-23T04:00:00Z' })],
      );
      const before = await ok(['events', 'list', '--status', 'dead']);
      for (const { id } of dead)
        expect(before.stdout).toMatch(new RegExp(`^${id}\\s+dead\\s+crm\\.note\\.created`, 'm'));

      const run = await ok(['replay', '--dead', '--yes']);
      expect(run.stdout).toContain('Queued 3 dead events again');
      expect(run.stderr).toMatch(/Replaying dead events \[[█░]+\] 3\/3 100%/);
      const statuses = await waitFor(async () => {
        const rows = await db.query<{ status: string }>(
          'SELECT status FROM webhook_events WHERE id = ANY($1::bigint[])',
          [dead.map((d) => d.id)],
        );
        return rows.every((r) => r.status === 'processed') && rows;
      });
      expect(statuses).toHaveLength(3);

      const none = await ok(['replay', '--dead', '--yes']);
      expect(none.stdout).toBe('No dead events to replay.\n');
      expect((await cli(['replay'])).stderr).toContain('--dead or --failed');
    });

    it('should replay one event', async () => {
      const [row] = await db.query<{ id: string }>(
        'SELECT id::text AS id FROM webhook_events WHERE endpoint_id = $1 ORDER BY id LIMIT 1',
        [endpointId],
      );
      const run = await ok(['events', 'replay', row.id, '--all']);
      expect(run.stdout).toBe(`Queued event ${row.id} again (all listeners).\n`);
    });
  });

  describe('connections reconcile', () => {
    it("should pull Panora's connections and report what it added", async () => {
      fake.connections.push({
        id_connection: randomUUID(),
        status: 'valid',
        provider_slug: 'pipedrive',
        vertical: 'crm',
        connection_token: randomUUID(),
        id_project: randomUUID(),
        id_linked_user: null,
        created_at: new Date().toISOString(),
      });
      const run = await ok(['connections', 'reconcile']);
      expect(run.stdout).toMatch(/seen at Panora:\s+1/);
      expect(run.stdout).toMatch(/created here:\s+1/);
      fake.failWith(401, { route: 'GET /connections' });
      const refused = await cli(['connections', 'reconcile']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('answered 502: Panora answered 401 to GET /connections');
    });
  });

  describe('status', () => {
    it('should show health, broker, backlog by status, dead count, oldest pending and outbox in one screen', async () => {
      const { endpoint } = await importEndpoint();
      // A dead event and one failed two hours ago whose retry is far off: the dispatcher leaves both be.
      const rows = await db.query<{ id: string }>(
        `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, status, attempts,
                                     last_error, received_at, next_attempt_at)
         VALUES ($1, gen_random_uuid()::text, 'crm.note.push', 'crm.note.created', '{}', 'dead', 8, 'crm: boom',
                 now(), now()),
                ($1, gen_random_uuid()::text, 'crm.note.push', 'crm.note.created', '{}', 'failed', 2, 'crm: boom',
                 now() - interval '2 hours 5 minutes', now() + interval '1 day')
         RETURNING id::text AS id`,
        [endpoint.id],
      );
      try {
        const [counts] = await db.query<{ dead: number; failed: number }>(
          `SELECT count(*) FILTER (WHERE status = 'dead')::int AS dead,
                  count(*) FILTER (WHERE status = 'failed')::int AS failed FROM webhook_events`,
        );
        // A read-only key is enough: status only reads.
        const run = await ok(['status'], { ADMIN_API_KEY: READ_KEY });
        expect(run.stdout).toMatch(new RegExp(`^service: +${service.baseUrl}: ready \\(checked `, 'm'));
        expect(run.stdout).toMatch(/^database: +up$/m);
        // The test app runs without RabbitMQ.
        expect(run.stdout).toMatch(/^broker: +(disabled|up|down)/m);
        expect(run.stdout).toMatch(
          new RegExp(`^inbox: +received \\d+, processing \\d+, failed ${counts.failed}, dead ${counts.dead}$`, 'm'),
        );
        expect(run.stdout).toMatch(new RegExp(`^dead: +${counts.dead}: replay with \`replay --dead\`$`, 'm'));
        expect(run.stdout).toMatch(/^oldest pending: +2 h [5-9] min$/m);
        expect(run.stdout).toMatch(/^outbox pending: +\d+$/m);

        const json = JSON.parse((await ok(['--json', 'status'])).stdout);
        expect(json).toMatchObject({
          ready: true,
          database: { status: 'up' },
          inbox: { failed: counts.failed, dead: counts.dead },
          outbox: { pending: expect.any(Number) },
        });
        expect(json.inbox.oldestPendingSeconds).toBeGreaterThanOrEqual(2 * 3600 + 5 * 60);
      } finally {
        await db.query('DELETE FROM webhook_events WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      }
    });

    it('should answer GET /admin/status to admin keys only', async () => {
      const anonymous = await fetch(`${service.baseUrl}/admin/status`);
      expect(anonymous.status).toBe(401);
      const readOnly = await fetch(`${service.baseUrl}/admin/status`, {
        headers: { authorization: `Bearer ${READ_KEY}` },
      });
      expect(readOnly.status).toBe(200);
    });
  });

  describe('crm', () => {
    it('should list the CRM objects and show one', async () => {
      const { endpoint } = await importEndpoint();
      const { event } = JSON.parse(
        (await ok(['--json', 'send-test-event', '--endpoint', endpoint.id, '--type', 'crm.company.created'])).stdout,
      );
      const id: string = event.payload.id;

      const list = await ok(['crm', 'list', '--kind', 'company', '--limit', '500']);
      expect(list.stdout.split('\n')[0]).toMatch(
        /^KIND\s+ID\s+NAME\s+EMAIL \/ DOMAIN\s+SHAPE\s+UPDATED \(UTC\)\s+DELETED \(UTC\)$/,
      );
      expect(list.stdout).toMatch(new RegExp(`^company\\s+${id}\\s+Analytical Engines `, 'm'));
      const every = await ok(['crm', 'list']);
      expect(every.stdout).toMatch(new RegExp(`^company\\s+${id}\\s`, 'm'));
      const page = JSON.parse((await ok(['--json', 'crm', 'list', '--kind', 'company', '--limit', '1'])).stdout);
      expect(page.items).toHaveLength(1);
      const next = await ok(['crm', 'list', '--kind', 'company', '--limit', '1', '--cursor', page.nextCursor]);
      expect(next.stdout).not.toContain(page.items[0].id);

      const shown = await ok(['crm', 'show', 'company', id]);
      expect(shown.stdout).toMatch(new RegExp(`^id: +${id}$`, 'm'));
      expect(shown.stdout).toMatch(/^name: +Analytical Engines /m);
      expect(shown.stdout).toMatch(/^shape: +unified$/m);
      expect(shown.stdout).toContain('Data:\n{');
      expect(JSON.parse((await ok(['--json', 'crm', 'show', 'company', id])).stdout)).toMatchObject({
        kind: 'company',
        id,
      });

      const missing = await cli(['crm', 'show', 'company', randomUUID()]);
      expect(missing.code).toBe(4);
      expect(missing.stderr).toMatch(/^error: GET \/admin\/crm\/company\/\S+ answered 404: No company with id/);
      expect((await cli(['crm', 'show', 'planet', id])).code).toBe(2);
      expect((await cli(['crm', 'list', '--cursor', page.nextCursor])).stderr).toContain(
        'A cursor belongs to one kind: add --kind',
      );
    });
  });

  describe('exit codes, --json errors, --version and completion', () => {
    const jsonError = (run: Run) =>
      JSON.parse(run.stderr.trim().split('\n').at(-1)!) as { error: Record<string, unknown> };

    it('should exit 2 on a usage error, with commander\'s message, or {"error": …} under --json', async () => {
      const bad = await cli(['events', 'list', '--bogus']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^error: unknown option '--bogus'\n/);
      expect(bad.stdout).toBe('');
      expect((await cli(['events', 'show'])).code).toBe(2);
      expect((await cli(['no-such-command'])).code).toBe(2);
      expect((await cli(['events', 'list', '--limit', 'zero'])).code).toBe(2);

      const json = await cli(['--json', 'events', 'list', '--bogus']);
      expect(json.code).toBe(2);
      expect(json.stdout).toBe('');
      expect(JSON.parse(json.stderr)).toEqual({
        error: { code: 'usage', exitCode: 2, status: null, serviceCode: null, message: "unknown option '--bogus'" },
      });
    });

    it('should exit 3 for a wrong or read-only key, 4 for an unknown id, 5 when nothing listens', async () => {
      const wrong = await cli(['--json', 'events', 'list'], { ADMIN_API_KEY: 'wrong-key-0123456789' });
      expect(wrong.code).toBe(3);
      expect(jsonError(wrong)).toEqual({
        error: {
          code: 'auth',
          exitCode: 3,
          status: 401,
          serviceCode: null,
          message: 'GET /admin/events answered 401: Unknown admin key',
        },
      });
      const readOnly = await cli(['recovery', 'run'], { ADMIN_API_KEY: READ_KEY });
      expect(readOnly.code).toBe(3);
      expect(readOnly.stderr).toContain('answered 403: This key is read-only');

      const unknown = await cli(['events', 'show', '999999999']);
      expect(unknown.code).toBe(4);
      const unknownJson = jsonError(await cli(['--json', 'events', 'show', '999999999']));
      expect(unknownJson.error).toMatchObject({ code: 'not_found', exitCode: 4, status: 404 });
      expect(unknownJson.error.serviceCode).toEqual(expect.any(String));

      const down = await cli(['--json', 'status'], { PANORA_WEBHOOKS_URL: await closedPortUrl() });
      expect(down.code).toBe(5);
      expect(down.stdout).toBe('');
      expect(jsonError(down).error).toMatchObject({ code: 'unreachable', exitCode: 5, status: null });
    });

    it('should exit 6 when send-test-event sees its event fail', async () => {
      const { endpoint } = await importEndpoint();
      // The bus forwarder's insert into the outbox fails for ticketing events: the listener fails.
      await db.query(`
        CREATE FUNCTION refuse_ticketing() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.type LIKE 'ticketing.%' THEN RAISE EXCEPTION 'outbox refuses ticketing (test)'; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER refuse_ticketing BEFORE INSERT ON outbox_messages
          FOR EACH ROW EXECUTE FUNCTION refuse_ticketing();`);
      try {
        const run = await cli(['send-test-event', '--endpoint', endpoint.id, '--type', 'ticketing.ticket.created']);
        expect(run.code).toBe(6);
        expect(run.stdout).toMatch(/^status: +(failed|dead)$/m);
        expect(run.stderr).toMatch(/^error: Event \d+ was not processed: (failed|dead) \(.*outbox refuses ticketing/m);

        const json = await cli([
          '--json',
          'send-test-event',
          '--endpoint',
          endpoint.id,
          '--type',
          'ticketing.ticket.created',
        ]);
        expect(json.code).toBe(6);
        // The answer on standard output, the error on standard error.
        expect(JSON.parse(json.stdout).event.status).toMatch(/^(failed|dead)$/);
        expect(jsonError(json).error).toMatchObject({ code: 'not_processed', exitCode: 6, status: null });
      } finally {
        await db.query('DROP TRIGGER refuse_ticketing ON outbox_messages; DROP FUNCTION refuse_ticketing()');
      }
    });

    it('should print the version of package.json', async () => {
      const { version } = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8'));
      expect((await ok(['--version'])).stdout).toBe(`${version}\n`);
    });

    it('should print bash and zsh completion scripts that complete the commands', async () => {
      const bash = (await ok(['completion', 'bash'])).stdout;
      expect(bash).toContain('complete -o default -F _panora_webhooks panora-webhooks');
      const script = join(cwd, 'completion.bash');
      writeFileSync(script, bash);
      /** What bash offers after `panora-webhooks <words…>` and a tab. */
      const complete = (...words: string[]) =>
        new Promise<string>((resolveRun, reject) =>
          execFile(
            'bash',
            [
              '-c',
              `source "$0"; COMP_WORDS=(panora-webhooks "$@"); COMP_CWORD=$(($# )); _panora_webhooks; echo "\${COMPREPLY[*]}"`,
              script,
              ...words,
            ],
            (error, stdout) => (error ? reject(new Error(error.message)) : resolveRun(stdout.trim())),
          ),
        );
      expect((await complete('')).split(' ')).toEqual(
        expect.arrayContaining(['status', 'endpoints', 'events', 'send-test-event', 'crm', 'recovery', 'completion']),
      );
      expect(await complete('crm', '')).toBe('list show');
      expect(await complete('--url', 'http://x', 'crm', 'list', '--l')).toBe('--limit');
      expect(await complete('status', '')).toBe('--url --key --json --help');

      const zsh = (await ok(['completion', 'zsh'])).stdout;
      expect(zsh.split('\n')[0]).toBe('#compdef panora-webhooks');
      expect(zsh).toContain("'crm:the CRM objects projected from Panora events (read-only)'");
      expect(zsh).toContain("('events') items=('list:");
      expect(zsh).toContain('compdef _panora-webhooks panora-webhooks');
      expect((await cli(['completion', 'fish'])).code).toBe(2);
    });
  });
});
