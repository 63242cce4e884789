import { Injectable, Module } from '@nestjs/common';
import { DispatcherService } from '../../src/dispatch/dispatcher.service';
import { OnPanoraEvent, PanoraWebhookEvent } from '../../src/dispatch/panora-event';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { delivery, insertEndpoint, post, waitFor } from '../support/panora';

const TYPE = 'ticketing.ticket.created';
const ADMIN_KEY = 'claim-admin-key-0123456789';
/** Long: no renewal and no lease runs out on its own while a test runs; the test expires it. */
const LEASE_MS = 120_000;

/**
 * A listener held until the test releases it (a slow Panora call), one instance per app: each app
 * is one dispatcher. `failWith` makes it throw once released.
 */
@Injectable()
class HeldListener {
  readonly calls: { inboxId: string; attempt: number }[] = [];
  failWith?: string;
  private open: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  release(): void {
    this.open();
  }

  @OnPanoraEvent(TYPE, 'test.claim.held')
  async handle(event: PanoraWebhookEvent<unknown>): Promise<void> {
    this.calls.push({ inboxId: event.meta.inboxId, attempt: event.meta.attempt });
    await this.gate;
    if (this.failWith) throw new Error(this.failWith);
  }
}

@Module({ providers: [HeldListener] })
class HeldListenerModule {}

describe('Dispatcher claims after a replay', () => {
  let db: TestDatabase;
  let endpoint: { id: string; secret: string };
  const apps: TestApp[] = [];

  const start = async () => {
    const app = await startTestApp({
      databaseUrl: db.url,
      imports: [HeldListenerModule],
      env: {
        ADMIN_API_KEYS: ADMIN_KEY,
        DISPATCH_LEASE_MS: String(LEASE_MS),
        DISPATCH_POLL_MS: '50',
        WEBHOOK_RETRY_BASE_MS: '60000',
        WEBHOOK_RETRY_MAX_MS: '60000',
      },
    });
    apps.push(app);
    return app;
  };

  const event = async (id: string) =>
    (
      await db.query<{ status: string; attempts: number; last_error: string | null }>(
        'SELECT status, attempts, last_error FROM webhook_events WHERE id = $1',
        [id],
      )
    )[0];

  const outcomes = (id: string) =>
    db.query<{ listener: string; status: string; attempts: number; last_error: string | null }>(
      `SELECT listener, status, attempts, last_error FROM webhook_event_listeners
        WHERE event_id = $1 AND listener = 'test.claim.held'`,
      [id],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    endpoint = await insertEndpoint(db, { scope: [TYPE] });
  });

  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) {
      app.app.get(HeldListener).release();
      await app.close();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should not let a holder whose lease expired and whose event was replayed and claimed again record its late outcome', async () => {
    // Holder 1 claims the event and hangs in its listener.
    const first = await start();
    const holder1 = first.app.get(HeldListener);
    holder1.failWith = 'holder 1 finished late';
    const d = delivery({ secret: endpoint.secret, type: TYPE, payload: { id: 'ticket-1', name: 'Printer' } });
    expect((await post(`${first.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    const [{ id }] = await db.query<{ id: string }>('SELECT id::text AS id FROM webhook_events WHERE id_event = $1', [
      d.idEvent,
    ]);
    await waitFor(async () => holder1.calls.length === 1, 10_000, 'holder 1 running');
    expect(await event(id)).toMatchObject({ status: 'processing', attempts: 1 });

    // Its lease runs out (a process stalled past DISPATCH_LEASE_MS: no renewal got through).
    await db.query(`UPDATE webhook_events SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, [id]);

    // An operator replays it.
    const replay = await fetch(`${first.baseUrl}/admin/events/${id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(replay.status).toBe(202);

    // Holder 2 (another instance; holder 1's dispatcher is still inside its round) claims it.
    const second = await start();
    const holder2 = second.app.get(HeldListener);
    await waitFor(async () => holder2.calls.length === 1, 10_000, 'holder 2 running');
    expect((await event(id)).status).toBe('processing');

    // Holder 1 finishes late; stopping its dispatcher waits until it has tried to record.
    holder1.release();
    await first.app.get(DispatcherService).onModuleDestroy();
    expect(await event(id)).toMatchObject({ status: 'processing', last_error: null });
    expect(await outcomes(id)).toEqual([]);

    // Holder 2 finishes: its outcome is the one recorded.
    holder2.release();
    await second.app.get(DispatcherService).onModuleDestroy();
    expect(await event(id)).toMatchObject({ status: 'processed', attempts: 2, last_error: null });
    expect(await outcomes(id)).toEqual([
      { listener: 'test.claim.held', status: 'succeeded', attempts: 1, last_error: null },
    ]);
    expect(holder1.calls).toEqual([{ inboxId: id, attempt: 1 }]);
    expect(holder2.calls).toEqual([{ inboxId: id, attempt: 2 }]);
  });
});
