import { Injectable, Module } from '@nestjs/common';
import { Metrics } from '../../src/platform/metrics/metrics.service';
import { DispatcherService } from '../../src/dispatch/dispatcher.service';
import { OnPanoraEvent, PanoraWebhookEvent } from '../../src/dispatch/panora-event';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { LISTENER_OUTCOMES } from '../support/listener-outcomes';

const TYPE = 'ticketing.ticket.created';
/**
 * Renewed every third of it: long enough that a renewal delayed by a busy machine (a loaded CI
 * runner stalls the event loop for hundreds of milliseconds) still lands before the lease ends.
 */
const LEASE_MS = 1_500;
const MAX_ATTEMPTS = 3;

/** A listener a test can hold (a slow Panora call), recording each call per instance. */
@Injectable()
class SlowListener {
  readonly calls: { inboxId: string; attempt: number }[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => undefined;

  /** Until `release()`, every call waits: the round lasts as long as the test wants. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  callsOf(inboxId: string) {
    return this.calls.filter((c) => c.inboxId === inboxId);
  }

  @OnPanoraEvent(TYPE, 'test.lease.slow')
  async handle(event: PanoraWebhookEvent<unknown>): Promise<void> {
    this.calls.push({ inboxId: event.meta.inboxId, attempt: event.meta.attempt });
    await this.gate;
  }
}

@Module({ providers: [SlowListener] })
class SlowListenerModule {}

describe('Dispatcher leases and claims', () => {
  let db: TestDatabase;
  let endpoint: { id: string; secret: string };
  const apps: TestApp[] = [];

  const start = async () => {
    const app = await startTestApp({
      databaseUrl: db.url,
      imports: [SlowListenerModule],
      env: {
        DISPATCH_LEASE_MS: String(LEASE_MS),
        DISPATCH_POLL_MS: '50',
        WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '50',
      },
    });
    apps.push(app);
    return app;
  };

  /** Tickets stored in one commit, so the first dispatch round takes them all. */
  const storeTickets = async (count: number): Promise<string[]> => {
    const rows = await db.query<{ id: string }>(
      `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload)
       SELECT $1, gen_random_uuid()::text, $2, $2, jsonb_build_object('id', 'ticket-' || i, 'name', 'Printer')
         FROM generate_series(1, $3::int) AS i
       RETURNING id::text AS id`,
      [endpoint.id, TYPE, count],
    );
    return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
  };

  const events = (ids: string[]) =>
    db.query<{ id: string; status: string; attempts: number; last_error: string | null; lease_end: Date }>(
      `SELECT id::text AS id, status, attempts, last_error, next_attempt_at AS lease_end
         FROM webhook_events WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [ids],
    );

  const listenerRows = (ids: string[]) =>
    db.query<{ id: string; listener: string; status: string; attempts: number }>(
      `SELECT event_id::text AS id, listener, status, attempts FROM ${LISTENER_OUTCOMES} AS l
        WHERE event_id = ANY($1::bigint[]) ORDER BY event_id, listener`,
      [ids],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    endpoint = await insertEndpoint(db);
  });

  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) {
      app.app.get(SlowListener).release();
      await app.close();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should keep the events of a round that outlives the lease, so another instance does not run them again', async () => {
    const first = await start();
    const slow = first.app.get(SlowListener);
    slow.hold();
    const ids = await storeTickets(4);
    await waitFor(async () => ids.every((id) => slow.callsOf(id).length === 1), 10_000, 'the first round running');
    const [claimed] = await db.query<{ lease_end: Date }>(
      'SELECT max(next_attempt_at) AS lease_end FROM webhook_events WHERE id = ANY($1::bigint[])',
      [ids],
    );

    // A second instance on the same database, polling every 50 ms, while the round lasts 2 leases and more.
    const second = await start();
    await waitFor(
      async () =>
        (
          await db.query<{ past: boolean }>(
            `SELECT now() > $1::timestamptz + make_interval(secs => $2::double precision / 1000) AS past`,
            [claimed.lease_end, 2 * LEASE_MS],
          )
        )[0].past,
      10_000,
      'two leases to pass',
    );
    const held = await events(ids);
    expect(held.map((e) => ({ status: e.status, attempts: e.attempts }))).toEqual(
      ids.map(() => ({ status: 'processing', attempts: 1 })),
    );
    // Renewed: each lease now ends well after the one taken at claim time.
    for (const e of held) expect(e.lease_end.getTime()).toBeGreaterThan(claimed.lease_end.getTime() + LEASE_MS);

    slow.release();
    await waitFor(async () => (await events(ids)).every((e) => e.status === 'processed'), 10_000, 'the round recorded');
    await second.app.get(DispatcherService).onModuleDestroy();
    await first.app.get(DispatcherService).onModuleDestroy();

    expect(second.app.get(SlowListener).calls).toEqual([]);
    for (const id of ids) expect(slow.callsOf(id)).toEqual([{ inboxId: id, attempt: 1 }]);
    expect((await events(ids)).map((e) => e.attempts)).toEqual([1, 1, 1, 1]);
    const outcomes = await listenerRows(ids);
    expect(outcomes.filter((o) => o.listener === 'test.lease.slow')).toEqual(
      ids.map((id) => ({ id, listener: 'test.lease.slow', status: 'succeeded', attempts: 1 })),
    );
    expect(outcomes.every((o) => o.status === 'succeeded' && o.attempts === 1)).toBe(true);
  });

  it('should not record outcomes over an event another dispatcher took over meanwhile', async () => {
    const app = await start();
    const slow = app.app.get(SlowListener);
    slow.hold();
    const d = delivery({ secret: endpoint.secret, type: TYPE, payload: { id: 'ticket-late', name: 'Printer' } });
    expect((await post(`${app.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    const [{ id }] = await db.query<{ id: string }>('SELECT id::text AS id FROM webhook_events WHERE id_event = $1', [
      d.idEvent,
    ]);
    await waitFor(async () => slow.callsOf(id).length === 1, 10_000, 'the round running');
    // What another instance's claim does once the lease has run out (here: a long lease of its own):
    // a new claim token. Attempts are left as they are: the token, not the count, tells claims apart
    // (before claim ids, a replay reset attempts and a new claim could repeat the old number).
    await db.query(
      `UPDATE webhook_events SET claim_id = gen_random_uuid(), next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
      [id],
    );
    slow.release();
    // Stopping waits for the round in flight to finish and record.
    await app.app.get(DispatcherService).onModuleDestroy();

    const [event] = await events([id]);
    expect(event).toMatchObject({ status: 'processing', attempts: 1, last_error: null });
    expect(await listenerRows([id])).toEqual([]);
  });

  it('should mark dead, not hand out again, an event whose attempts all ended without an outcome', async () => {
    const app = await start();
    const slow = app.app.get(SlowListener);
    // Left 'processing' with an expired lease by processes that died while handling them.
    const [abandoned, retried] = await db.query<{ id: string }>(
      `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, status, attempts, next_attempt_at)
       VALUES ($1, gen_random_uuid()::text, $2, $2, '{"id": "huge"}', 'processing', $3, now() - interval '1 second'),
              ($1, gen_random_uuid()::text, $2, $2, '{"id": "small"}', 'processing', $3 - 1, now() - interval '1 second')
       RETURNING id::text AS id`,
      [endpoint.id, TYPE, MAX_ATTEMPTS],
    );
    app.app.get(DispatcherService).wake();
    await waitFor(
      async () => (await events([abandoned.id, retried.id])).every((e) => e.status !== 'processing'),
      10_000,
      'both settled',
    );
    const [dead, processed] = await events([abandoned.id, retried.id]);
    expect(dead).toMatchObject({ status: 'dead', attempts: MAX_ATTEMPTS });
    expect(dead.last_error).toMatch(/process stopped while handling this event/);
    expect(slow.callsOf(abandoned.id)).toEqual([]);
    expect(await listenerRows([abandoned.id])).toEqual([]);
    // One attempt left: handed out as usual.
    expect(processed).toMatchObject({ status: 'processed', attempts: MAX_ATTEMPTS });
    expect(slow.callsOf(retried.id)).toEqual([{ inboxId: retried.id, attempt: MAX_ATTEMPTS }]);
    // Counted like any dead event, so the dead-events alert fires.
    expect(await app.app.get(Metrics).scrape()).toContain('panora_webhooks_dead_events_total{listener="dispatcher"} 1');
  });
});
