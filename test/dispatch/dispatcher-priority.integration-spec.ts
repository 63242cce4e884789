import { DispatcherService } from '../../src/dispatch/dispatcher.service';
import { startTestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { TestListeners, TestListenersModule } from '../support/test-listeners';

const statusOf = async (db: TestDatabase, idEvent: string) =>
  (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id_event = $1', [idEvent]))[0]?.status;

describe('Dispatcher: receiving comes first, a backlog is worked in parallel rounds', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    TestListeners.batchDelayMs = 0;
    await db?.drop();
  });

  /** 40 task events stored while no dispatcher runs, then a dispatcher with these settings. */
  async function workBacklog(parallelRounds: string): Promise<TestListeners> {
    const endpoint = await insertEndpoint(db);
    const receiver = await startTestApp({ databaseUrl: db.url, imports: [TestListenersModule] });
    const sent: string[] = [];
    try {
      await receiver.app.get(DispatcherService).onModuleDestroy(); // stores, never dispatches
      for (let i = 0; i < 40; i++) {
        const d = delivery({ secret: endpoint.secret, type: 'crm.task.created', payload: { id: `task-${i}` } });
        expect((await post(`${receiver.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
        sent.push(d.idEvent);
      }
    } finally {
      await receiver.close();
    }
    TestListeners.batchDelayMs = 150;
    const worker = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: { DISPATCH_BATCH_SIZE: '5', DISPATCH_PARALLEL_ROUNDS: parallelRounds },
    });
    try {
      await waitFor(
        async () =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM webhook_events WHERE id_event = ANY($1) AND status = 'processed'`,
              [sent],
            )
          )[0].n === sent.length,
        60_000,
        'the backlog processed',
      );
      const listeners = worker.app.get(TestListeners);
      // Every event handed to the batch listener exactly once, whatever the number of rounds.
      expect(listeners.batches.flat()).toHaveLength(sent.length);
      expect(new Set(listeners.batches.flat()).size).toBe(sent.length);
      return listeners;
    } finally {
      TestListeners.batchDelayMs = 0;
      await worker.close();
    }
  }

  it('should work a backlog in DISPATCH_PARALLEL_ROUNDS rounds at once, each event once', async () => {
    const listeners = await workBacklog('3');
    expect(listeners.maxConcurrentBatches).toBe(3);
  });

  it('should work a backlog one round at a time with DISPATCH_PARALLEL_ROUNDS=1', async () => {
    const listeners = await workBacklog('1');
    expect(listeners.maxConcurrentBatches).toBe(1);
  });

  /**
   * A service with DISPATCH_YIELD_MS set: one delivery processed, then a second sent right after
   * that round, so the dispatcher is pausing before it.
   */
  async function pausedAfterARound(yieldMs: string) {
    const endpoint = await insertEndpoint(db);
    const service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: { DISPATCH_YIELD_MS: yieldMs },
    });
    try {
      const url = `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
      const first = delivery({ secret: endpoint.secret, type: 'crm.task.created', payload: { id: 'first' } });
      expect((await post(url, first)).status).toBe(200);
      await waitFor(async () => (await statusOf(db, first.idEvent)) === 'processed', 30_000, 'first processed');
      const second = delivery({ secret: endpoint.secret, type: 'crm.task.created', payload: { id: 'second' } });
      expect((await post(url, second)).status).toBe(200);
      return { service, second };
    } catch (error) {
      await service.close();
      throw error;
    }
  }

  it('should leave DISPATCH_YIELD_MS between rounds while deliveries arrive, then process them', async () => {
    // Arriving right after a round: it waits for the pause to end, it is not dropped.
    const { service, second } = await pausedAfterARound('6000');
    try {
      await new Promise((done) => setTimeout(done, 1_000));
      expect(await statusOf(db, second.idEvent)).toBe('received');
      await waitFor(async () => (await statusOf(db, second.idEvent)) === 'processed', 30_000, 'second processed');
    } finally {
      await service.close();
    }
  });

  it('should shut down without waiting out a pause', async () => {
    const { service, second } = await pausedAfterARound('10000');
    // The dispatcher is now pausing for up to 10 s; closing must not wait for that.
    const closing = service.close().then(() => 'closed');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((done) => (timer = setTimeout(() => done('still waiting'), 8_000)));
    expect(await Promise.race([closing, timeout])).toBe('closed');
    clearTimeout(timer);
    // Stored all the same: the next start processes it.
    expect(await statusOf(db, second.idEvent)).toBe('received');
  });
});
