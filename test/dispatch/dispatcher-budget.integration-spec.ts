import { randomBytes } from 'node:crypto';
import { DispatcherService } from '../../src/dispatch/dispatcher.service';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { TestListeners, TestListenersModule } from '../support/test-listeners';

describe('Dispatcher rounds stay within DISPATCH_BATCH_BYTES', () => {
  let db: TestDatabase;
  let service: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      // 6 KB per round; each payload below is ~4 KB of incompressible text.
      env: { DISPATCH_BATCH_BYTES: '6kb', DISPATCH_BATCH_SIZE: '50' },
    });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('should split large payloads over several rounds, and still process every event', async () => {
    const listeners = service.app.get(TestListeners);
    const endpoint = await insertEndpoint(db);
    // Stored while no round can take them (the dispatcher is stopped), so they are all due at once.
    await service.app.get(DispatcherService).onModuleDestroy();
    const sent = Array.from({ length: 6 }, (_, i) =>
      delivery({
        secret: endpoint.secret,
        type: 'crm.task.created',
        payload: { id: `t${i}`, blob: randomBytes(2048).toString('hex') },
      }),
    );
    for (const d of sent) expect((await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    expect(listeners.batches).toHaveLength(0);
    // A new dispatcher over the same database takes them.
    const second = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: { DISPATCH_BATCH_BYTES: '6kb' },
    });
    try {
      const secondListeners = second.app.get(TestListeners);
      await waitFor(
        async () =>
          (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE status = 'processed'`))[0]
            .n === 6,
        10_000,
        'all processed',
      );
      expect(secondListeners.batches.flat().sort()).toHaveLength(6);
      expect(Math.max(...secondListeners.batches.map((batch) => batch.length))).toBe(1);
    } finally {
      await second.close();
    }
  });
});
