import { Client } from 'pg';
import { RecoveryRepository } from '../../src/recovery/recovery.repository';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import {
  ADMIN_KEY,
  admin,
  ago,
  missedEvents,
  PANORA_KEY,
  READ_KEY,
  RECOVERY_LOCK,
  runRecovery,
  startRecoveringService,
} from './recovery-harness';

jest.setTimeout(120_000);

/**
 * Recovery is safe by construction (issue 15): one instance at a time, a watermark that moves only
 * after a complete walk, a resumable CRM re-read, a refused token given up with the reason (and
 * never shown), and an admin API that read keys may read but not run.
 */
describe('Recovery: safety', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  let endpoint: { id: string; secret: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await FakePanora.start(PANORA_KEY);
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.contact.created'] });
    service = await startRecoveringService(db, fake, { RECOVERY_PAGE_SIZE: '2' });
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
  });

  beforeEach(() => fake.reset());

  const watermark = async () =>
    (await db.query<{ watermark: Date | null }>('SELECT watermark FROM recovery_state'))[0].watermark;

  describe('the admin API', () => {
    it('should let read keys see the state but not run it, and refuse no key', async () => {
      expect((await admin(service, '/admin/recovery', {}, READ_KEY)).status).toBe(200);
      expect((await admin(service, '/admin/recovery/run', { method: 'POST' }, READ_KEY)).status).toBe(403);
      expect((await admin(service, '/admin/recovery', {}, '')).status).toBe(401);
      expect((await admin(service, '/admin/recovery/run', { method: 'POST' }, '')).status).toBe(401);
      expect((await admin(service, '/admin/recovery?status=lost')).status).toBe(400);
      expect((await admin(service, '/admin/recovery?cursor=abc')).status).toBe(400);
    });

    it('should answer 503 PANORA_NOT_CONFIGURED without PANORA_API_KEY, and say recovery is off', async () => {
      const off = await startTestApp({ databaseUrl: db.url, env: { ADMIN_API_KEYS: ADMIN_KEY } });
      try {
        const run = await admin(off, '/admin/recovery/run', { method: 'POST' });
        expect(run.status).toBe(503);
        expect(run.json.code).toBe('PANORA_NOT_CONFIGURED');
        expect((await admin(off, '/admin/recovery')).json.enabled).toBe(false);
      } finally {
        await off.close();
      }
    });
  });

  it('should answer 409 RECOVERY_BUSY while another instance runs, and run once it is free', async () => {
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [RECOVERY_LOCK]);
      const busy = await admin(service, '/admin/recovery/run', { method: 'POST' });
      expect(busy.status).toBe(409);
      expect(busy.json.code).toBe('RECOVERY_BUSY');
      await other.query('SELECT pg_advisory_unlock($1)', [RECOVERY_LOCK]);
      expect((await runRecovery(service)).outcome).toBe('completed');
    } finally {
      await other.end();
    }
  });

  it('should keep the watermark when Panora fails mid-walk, and walk the same window again', async () => {
    const before = await watermark();
    const connection = connectionPayload();
    fake.connections.push(connection);
    const events = [0, 1, 2, 3, 4].map((i) =>
      fake.recordEvent({
        type: 'connection.created',
        id_connection: connection.id_connection,
        timestamp: ago(120 + i),
      }),
    );
    // Page 1 answers; every later call to GET /events fails (the client's retries included).
    fake.slow(0, { route: 'GET /events' }).failWith(500, { route: 'GET /events', times: 20 });
    const failed = await runRecovery(service);
    expect(failed.outcome).toBe('failed');
    expect(failed.error).toMatch(/GET \/events failed \(page 2\)/);
    expect(failed.detection.complete).toBe(false);
    expect(failed.foundIds).toHaveLength(2); // page 1's
    expect(await watermark()).toEqual(before);
    expect((await admin(service, '/admin/recovery')).json.lastRun).toMatchObject({ outcome: 'failed' });

    fake.reset();
    const again = await runRecovery(service);
    expect(again).toMatchObject({ outcome: 'completed', error: null });
    expect(again.foundIds.sort()).toEqual(
      events
        .slice(2)
        .map((e) => e.id_event)
        .sort(),
    );
    expect((await watermark())!.getTime()).toBeGreaterThan(before?.getTime() ?? 0);
    const rows = await missedEvents(db);
    for (const event of events) {
      expect(rows.find((row) => row.id_event === event.id_event)?.status).toBe('recovered');
    }
  });

  it('should give up on a connection Panora no longer lists', async () => {
    const gone = connectionPayload();
    const event = fake.recordEvent({
      type: 'connection.created',
      id_connection: gone.id_connection,
      timestamp: ago(90),
    });
    await runRecovery(service);
    const [row] = (await missedEvents(db)).filter((r) => r.id_event === event.id_event);
    expect(row).toMatchObject({ status: 'given_up', last_error: 'Panora no longer lists the connection' });
  });

  it('should prune settled missed events past INBOX_RETENTION_DAYS after a run, and keep pending ones however old', async () => {
    // Missed a month ago (INBOX_RETENTION_DAYS defaults to 30): long behind the watermark, so no
    // walk meets them again.
    const old = async (status: string) =>
      (
        await db.query<{ id_event: string }>(
          `INSERT INTO recovery_missed_events
             (id_event, type, normalized_type, id_connection, panora_timestamp, reason, status, detected_at, settled_at)
           VALUES (gen_random_uuid()::text, 'connection.created', 'connection.created', gen_random_uuid()::text,
                   now() - interval '32 days', 'not in the inbox', $1, now() - interval '32 days',
                   CASE WHEN $1 = 'pending' THEN NULL ELSE now() - interval '31 days' END)
           RETURNING id_event`,
          [status],
        )
      )[0].id_event;
    const settled = await old('given_up');
    await runRecovery(service);
    expect((await missedEvents(db)).map((r) => r.id_event)).not.toContain(settled);

    // A pending one as old stays: the prune alone here, so that no run settles it first.
    const pending = await old('pending');
    try {
      await service.app.get(RecoveryRepository).pruneSettled(30);
      expect((await missedEvents(db)).find((r) => r.id_event === pending)?.status).toBe('pending');
    } finally {
      await db.query('DELETE FROM recovery_missed_events WHERE id_event = $1', [pending]);
    }
  });

  it('should give up on a connection whose token Panora refuses, with the reason and never the token', async () => {
    // Stored here (its connection.created arrived), unknown to Panora now.
    const connection = connectionPayload();
    const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connection });
    expect((await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    await waitFor(
      async () =>
        (await db.query('SELECT 1 FROM connections WHERE id_connection = $1', [connection.id_connection])).length,
      10_000,
      'the connection stored',
    );
    const event = fake.recordEvent({
      type: 'crm.contact.created',
      id_connection: connection.id_connection,
      timestamp: ago(80),
    });
    const report = await runRecovery(service);
    expect(report.recovery.givenUp).toBe(1);
    const [row] = (await missedEvents(db)).filter((r) => r.id_event === event.id_event);
    expect(row.status).toBe('given_up');
    expect(row.last_error).toMatch(/^Panora refuses this connection's token/);
    expect(row.last_error).not.toContain(connection.connection_token);
    const state = await admin(service, '/admin/recovery?status=given_up');
    expect(state.json.items.map((item: { idEvent: string }) => item.idEvent)).toContain(event.id_event);
    expect(state.text).not.toContain(connection.connection_token);
    expect(JSON.stringify(report)).not.toContain(connection.connection_token);
  });

  it('should resume a CRM re-read from its stored cursor after it stopped mid-way', async () => {
    const connection = connectionPayload();
    fake.connections.push(connection);
    const contacts = fake.putUnified(
      connection.connection_token,
      'contact',
      Array.from({ length: 120 }, (_, i) => ({ first_name: `Contact ${i}` })),
    );
    const event = fake.recordEvent({
      type: 'crm.contact.created',
      id_connection: connection.id_connection,
      timestamp: ago(70),
    });
    // Page 1 of the list answers, then Panora fails.
    fake.slow(0, { route: 'GET /crm/contacts' }).failWith(500, { route: 'GET /crm/contacts', times: 20 });
    const first = await runRecovery(service);
    expect(first.outcome).toBe('partial');
    expect(first.recovery).toMatchObject({ failed: 1, objectsRead: 50 });
    const [read] = await db.query<{ cursor: string | null; status: string }>(
      'SELECT cursor, status FROM recovery_crm_reads WHERE id_connection = $1',
      [connection.id_connection],
    );
    expect(read.status).toBe('running');
    expect(Buffer.from(read.cursor!, 'base64').toString()).toBe(contacts[50].id);
    expect((await missedEvents(db)).find((r) => r.id_event === event.id_event)).toMatchObject({
      status: 'pending',
      attempts: 1,
    });

    fake.reset();
    const second = await runRecovery(service);
    expect(second).toMatchObject({ outcome: 'completed' });
    expect(second.recovery).toMatchObject({ recovered: 1, objectsRead: 70 });
    expect(fake.requestsTo('GET', '/crm/contacts')).toHaveLength(2); // pages 2 and 3, not page 1 again
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM crm_objects WHERE kind = 'contact' AND connection_id = $1`,
      [connection.id_connection],
    );
    expect(n).toBe(120);
  });

  it('should show the missed events by status and the runs by outcome on /metrics', async () => {
    // After the other tests of this file: some recovered, two given up, runs of each outcome.
    const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
    const value = (line: string) =>
      Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    const counts = (await admin(service, '/admin/recovery')).json.counts;
    for (const status of ['pending', 'recovered', 'published', 'given_up', 'arrived_late']) {
      expect(value(`panora_webhooks_recovery_missed_events{status="${status}"}`)).toBe(counts[status]);
    }
    expect(counts.recovered).toBeGreaterThan(0);
    expect(counts.given_up).toBe(2);
    expect(value('panora_webhooks_recovery_runs_total{outcome="busy"}')).toBe(1);
    expect(value('panora_webhooks_recovery_runs_total{outcome="failed"}')).toBe(1);
    expect(value('panora_webhooks_recovery_runs_total{outcome="partial"}')).toBe(1);
    expect(value('panora_webhooks_recovery_runs_total{outcome="completed"}')).toBeGreaterThanOrEqual(4);
  });
});
