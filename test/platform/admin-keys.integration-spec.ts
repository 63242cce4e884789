import { request } from 'node:http';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { adminRoutes } from '../faults/support/admin-routes';

const FULL_KEY = 'admin-keys-full-key-0123456789';
const READ_KEY = 'admin-keys-read-only-key-0123456789';

interface Answer {
  status: number;
  retryAfter?: string;
  json: any;
}

/** One request from a chosen local address (127.0.0.x are all this machine), a fresh connection each. */
function send(
  service: TestApp,
  { method = 'GET', path, key, from = '127.0.0.1' }: { method?: string; path: string; key?: string; from?: string },
): Promise<Answer> {
  const url = new URL(service.baseUrl);
  const body = method === 'GET' || method === 'HEAD' || method === 'DELETE' ? undefined : '{}';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        localAddress: from,
        method,
        path,
        agent: false,
        headers: {
          ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
            json,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('Admin keys: scopes and failed attempts', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let connection: ReturnType<typeof connectionPayload>;
  let idEvent: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      env: { ADMIN_API_KEYS: FULL_KEY, ADMIN_READ_API_KEYS: READ_KEY, DISPATCH_POLL_MS: '100' },
    });
    endpoint = await insertEndpoint(db);
    connection = connectionPayload();
    const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connection });
    expect((await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    idEvent = d.idEvent;
    await waitFor(
      async () =>
        (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id_event = $1', [idEvent]))[0]
          ?.status === 'processed',
      10_000,
      'connection.created processed',
    );
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  describe('a read-only key (ADMIN_READ_API_KEYS)', () => {
    it('should list and read events, connections, endpoints and CRM objects', async () => {
      const events = await send(service, { path: '/admin/events', key: READ_KEY });
      expect(events.status).toBe(200);
      const event = events.json.items.find((e: { idEvent: string }) => e.idEvent === idEvent);
      expect(event).toBeDefined();
      expect((await send(service, { path: `/admin/events/${event.id}`, key: READ_KEY })).status).toBe(200);
      const connections = await send(service, { path: '/admin/connections', key: READ_KEY });
      expect(connections.status).toBe(200);
      expect(connections.json.items.map((c: { idConnection: string }) => c.idConnection)).toContain(
        connection.id_connection,
      );
      expect(
        (await send(service, { path: `/admin/connections/${connection.id_connection}`, key: READ_KEY })).status,
      ).toBe(200);
      expect((await send(service, { path: '/admin/endpoints', key: READ_KEY })).status).toBe(200);
      expect((await send(service, { path: '/admin/crm/contact', key: READ_KEY })).status).toBe(200);
    });

    it("should read a connection's token, as sibling services do", async () => {
      const res = await send(service, { path: `/admin/connections/${connection.id_connection}/token`, key: READ_KEY });
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.json)).toContain(connection.connection_token);
    });

    it('should get 403 on every admin route that is not a GET, saying a full admin key is needed, and change nothing', async () => {
      const writes = (await adminRoutes()).filter((route) => route.method !== 'GET');
      // Routes that register, rotate, delete, replay and send test events are among them.
      expect(writes.map((route) => `${route.method} ${route.path}`)).toEqual(
        expect.arrayContaining([
          'POST /admin/endpoints',
          'POST /admin/endpoints/import',
          'POST /admin/endpoints/:id/rotate',
          'DELETE /admin/endpoints/:id',
          'PATCH /admin/endpoints/:id',
          'POST /admin/events/:id/replay',
          'POST /admin/events/replay',
          'POST /admin/endpoints/:id/test-event',
          'POST /admin/connections/reconcile',
        ]),
      );
      const [{ id: eventRow }] = await db.query<{ id: string }>('SELECT id FROM webhook_events WHERE id_event = $1', [
        idEvent,
      ]);
      const answers: string[] = [];
      for (const route of writes) {
        const path = route.path.replace(':id', route.path.startsWith('/admin/events') ? eventRow : endpoint.id);
        const res = await send(service, { method: route.method, path, key: READ_KEY });
        answers.push(`${route.method} ${route.path} ${res.status} ${res.json?.message}`);
      }
      const forbidden = (route: { method: string; path: string }) =>
        `${route.method} ${route.path} 403 This key is read-only (ADMIN_READ_API_KEYS): this route changes state and needs a full admin key (ADMIN_API_KEYS)`;
      expect(answers).toEqual(writes.map(forbidden));

      const [endpointRow] = await db.query<{ active: boolean; deleted_at: Date | null }>(
        'SELECT active, deleted_at FROM webhook_endpoints WHERE id = $1',
        [endpoint.id],
      );
      expect(endpointRow).toEqual({ active: true, deleted_at: null });
      const [{ n: secrets }] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM webhook_endpoint_secrets WHERE endpoint_id = $1',
        [endpoint.id],
      );
      expect(secrets).toBe(1);
      const [{ n: events }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events');
      expect(events).toBe(1); // no test event was stored
    });

    it('should leave full keys every route: the same replay with the full key is accepted', async () => {
      const [{ id }] = await db.query<{ id: string }>('SELECT id FROM webhook_events WHERE id_event = $1', [idEvent]);
      const res = await send(service, { method: 'POST', path: `/admin/events/${id}/replay`, key: FULL_KEY });
      expect(res.status).toBe(202);
    });
  });

  describe('failed attempts from one client', () => {
    let limited: TestApp;

    beforeAll(async () => {
      limited = await startTestApp({
        databaseUrl: db.url,
        env: {
          ADMIN_API_KEYS: FULL_KEY,
          ADMIN_READ_API_KEYS: READ_KEY,
          ADMIN_AUTH_MAX_FAILURES: '3',
          ADMIN_AUTH_BLOCK_SECONDS: '2',
        },
      });
    });

    afterAll(async () => {
      await limited?.close();
    });

    it('should not slow down successful requests', async () => {
      for (let i = 0; i < 30; i++) {
        expect((await send(limited, { path: '/admin/events?limit=1', key: READ_KEY, from: '127.0.0.3' })).status).toBe(
          200,
        );
      }
    });

    it('should answer 429 with Retry-After after ADMIN_AUTH_MAX_FAILURES wrong keys, to the right key too, until the block expires; other clients go on', async () => {
      for (let i = 0; i < 3; i++) {
        expect((await send(limited, { path: '/admin/events', key: `not-the-key-${i}-0123456789` })).status).toBe(401);
      }
      const blocked = await send(limited, { path: '/admin/events', key: 'not-the-key-3-0123456789' });
      expect(blocked.status).toBe(429);
      expect(blocked.json.message).toMatch(/^Too many wrong admin keys from this client: blocked, retry in [12] s$/);
      expect(['1', '2']).toContain(blocked.retryAfter);

      // Blocked means blocked, whatever the key and the route: otherwise a right guess would still show.
      for (const [method, path, key] of [
        ['GET', '/admin/events', FULL_KEY],
        ['GET', `/admin/connections/${connection.id_connection}/token`, READ_KEY],
        ['POST', '/admin/events/replay', FULL_KEY],
      ] as const) {
        const res = await send(limited, { method, path, key });
        expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 429`);
        expect(Number(res.retryAfter)).toBeGreaterThanOrEqual(1);
      }

      // Another client (another local address) is not held back.
      expect((await send(limited, { path: '/admin/events', key: FULL_KEY, from: '127.0.0.2' })).status).toBe(200);

      // The block expires (ADMIN_AUTH_BLOCK_SECONDS=2): then the right key works again.
      const after = await waitFor(
        async () => {
          const res = await send(limited, { path: '/admin/events', key: FULL_KEY });
          return res.status !== 429 && res;
        },
        10_000,
        'the block to expire',
      );
      expect(after.status).toBe(200);
    });
  });
});
