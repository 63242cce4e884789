import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { connectionPayload, insertEndpoint } from '../support/panora';
import { ADMIN_KEY, ago, PANORA_KEY, READ_KEY, RECOVERY_LOCK, startRecoveringService } from './recovery-harness';

/** The built CLI, as `npx panora-webhooks` runs it (npm test builds first). */
const CLI = resolve(__dirname, '../../dist/src/cli/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('The CLI: recovery status and recovery run', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  let cwd: string;

  const cli = (args: string[], key = ADMIN_KEY): Promise<Run> =>
    new Promise((resolveRun) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        {
          cwd,
          env: { PATH: process.env.PATH ?? '', HOME: cwd, PANORA_WEBHOOKS_URL: service.baseUrl, ADMIN_API_KEY: key },
          timeout: 60_000,
        },
        (error, stdout, stderr) =>
          resolveRun({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    cwd = mkdtempSync(join(tmpdir(), 'panora-cli-recovery-'));
    db = await createTestDatabase();
    fake = await FakePanora.start(PANORA_KEY);
    await insertEndpoint(db, { scope: ['connection.created', 'ticketing.ticket.created'] });
    service = await startRecoveringService(db, fake);
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('should run recovery and print what it found', async () => {
    const connection = connectionPayload();
    fake.connections.push(connection);
    const created = fake.recordEvent({
      type: 'connection.created',
      id_connection: connection.id_connection,
      timestamp: ago(60),
    });
    const ticket = fake.recordEvent({
      type: 'ticketing.ticket.push',
      id_connection: connection.id_connection,
      timestamp: ago(50),
    });
    const run = await cli(['recovery', 'run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^outcome:\s+completed$/m);
    expect(run.stdout).toMatch(/^missed, found now:\s+2$/m);
    expect(run.stdout).toMatch(/^recovered:\s+1$/m);
    expect(run.stdout).toMatch(/^published on the bus:\s+1$/m);
    expect(run.stdout).toContain(created.id_event);
    expect(run.stdout).toContain(ticket.id_event);
  });

  it('should show the state and the missed events, as a table or JSON, with a read-only key', async () => {
    const status = await cli(['recovery', 'status'], READ_KEY);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^outcome:\s+completed$/m);
    expect(status.stdout).toMatch(/pending 0, recovered 1, published 1, given_up 0, arrived_late 0/);
    expect(status.stdout).toMatch(
      /^ID_EVENT\s+TYPE\s+CONNECTION\s+PANORA TIME \(UTC\)\s+STATUS\s+TRIES\s+LAST ERROR$/m,
    );
    expect(status.stdout).toContain('ticketing.ticket.push');

    const json = await cli(['--json', 'recovery', 'status', '--status', 'published', '--limit', '5']);
    expect(json.code).toBe(0);
    const state = JSON.parse(json.stdout);
    expect(state.items).toHaveLength(1);
    expect(state.items[0]).toMatchObject({ type: 'ticketing.ticket.push', status: 'published' });
  });

  it('should fail readably: a bad status, a read-only key running it, another instance running', async () => {
    const bad = await cli(['recovery', 'status', '--status', 'lost']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected one of pending, recovered, published, given_up, arrived_late');

    const readOnly = await cli(['recovery', 'run'], READ_KEY);
    expect(readOnly.code).toBe(3); // the CLI's exit code for a key the service refused (docs/cli.md)
    expect(readOnly.stderr).toMatch(/^error: .*read-only/m);

    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [RECOVERY_LOCK]);
      const busy = await cli(['recovery', 'run']);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/^error: .*Another instance is recovering missed events right now/m);
    } finally {
      await other.end();
    }
  });
});
