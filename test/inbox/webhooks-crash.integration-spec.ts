import { existsSync } from 'node:fs';
import { TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { delivery, insertEndpoint, waitFor } from '../support/panora';
import { freePort, MAIN_JS, spawnService, waitForOk } from '../support/process';

describe('Acknowledged deliveries survive a crash (SIGKILL) of the service', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should have every acknowledged delivery stored once, and process it after the restart', async () => {
    const port = await freePort();
    const env = {
      DATABASE_URL: db.url,
      PORT: String(port),
      SECRETS_KEY: TEST_SECRETS_KEY,
      DISPATCH_LEASE_MS: '500',
      LOG_LEVEL: 'warn',
    };
    const endpoint = await insertEndpoint(db);
    const url = `http://127.0.0.1:${port}/webhooks/panora/${endpoint.id}`;

    const first = spawnService(env);
    await waitForOk(`http://127.0.0.1:${port}/health/ready`, first);

    const deliveries = Array.from({ length: 300 }, (_, i) =>
      delivery({ secret: endpoint.secret, type: 'crm.company.push', payload: { id: `co-${i}`, name: `Company ${i}` } }),
    );
    const acknowledged: string[] = [];
    let killed = false;
    await Promise.all(
      deliveries.map(async (d) => {
        try {
          const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
          if (res.status === 200) acknowledged.push(d.idEvent);
          if (acknowledged.length >= 100 && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        } catch {
          // connection reset by the crash: not acknowledged, a sender would retry
        }
      }),
    );
    await first.exited;
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(100);

    // Every 2xx was committed before it was sent.
    const stored = await db.query<{ id_event: string }>('SELECT id_event FROM webhook_events');
    const storedIds = new Set(stored.map((r) => r.id_event));
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);

    // After the restart, everything stored gets processed, once.
    const second = spawnService(env);
    try {
      await waitForOk(`http://127.0.0.1:${port}/health/ready`, second);
      await waitFor(
        async () =>
          (
            await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE status <> 'processed'`)
          )[0].n === 0,
        20_000,
        'all stored events processed',
      );
      const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events');
      expect(n).toBe(storedIds.size);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
