import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { waitFor } from '../support/panora';

/** The built CLI, as `npx panora-webhooks` and `npm run cli` run it (npm test builds first). */
const CLI = resolve(__dirname, '../../dist/src/cli/main.js');
const ADMIN_KEY = 'cli-admin-key-0123456789';

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
      expect(refused.code).toBe(1);
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
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /^error: POST \/admin\/endpoints\/\S+\/test-event answered 404: Unknown, disabled/,
      );

      const { endpoint } = await importEndpoint();
      const badType = await cli(['send-test-event', '--endpoint', endpoint.id, '--type', 'crm.contact.exploded']);
      expect(badType.code).toBe(1);
      expect(badType.stderr).toContain('answered 400: type must be an event type Panora offers');

      const badKey = await cli(['endpoints', 'list'], { ADMIN_API_KEY: 'wrong' });
      expect(badKey.code).toBe(1);
      expect(badKey.stderr).toContain('answered 401: Unknown admin key');

      const noKey = await cli(['endpoints', 'list'], { ADMIN_API_KEY: '' });
      expect(noKey.stderr).toContain('No admin key');

      const down = await cli(['endpoints', 'list'], { PANORA_WEBHOOKS_URL: 'http://127.0.0.1:9' });
      expect(down.code).toBe(1);
      expect(down.stderr).toContain('Cannot reach the service at http://127.0.0.1:9');
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

      const run = await ok(['replay', '--dead']);
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

      const none = await ok(['replay', '--dead']);
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
});
