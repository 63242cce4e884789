import { InboxRetention } from '../../src/inbox/inbox-retention.service';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { TestListeners, TestListenersModule } from '../support/test-listeners';

const ADMIN_KEY = 'events-admin-key-0123456789';

describe('Events admin API (/admin/events)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let listeners: TestListeners;
  let endpoint: { id: string; secret: string };
  const ids: Record<string, string> = {};
  const tokens: string[] = [];

  const admin = async (path: string, init: RequestInit = {}, key = ADMIN_KEY) => {
    const res = await fetch(`${service.baseUrl}${path}`, {
      ...init,
      headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${key}` },
    });
    const text = await res.text();
    for (const token of tokens) expect(text).not.toContain(token);
    expect(text).not.toContain(endpoint.secret);
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: {
        ADMIN_API_KEYS: `other-key-0123456789,${ADMIN_KEY}`,
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '50',
        WEBHOOK_MAX_ATTEMPTS: '2',
      },
    });
    listeners = service.app.get(TestListeners);
    listeners.brokenHealed = false;
    endpoint = await insertEndpoint(db);
    const url = `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
    const send = async (name: string, type: string, payload: unknown) => {
      const d = delivery({ secret: endpoint.secret, type, payload });
      expect((await post(url, d)).status).toBe(200);
      const [row] = await db.query<{ id: string }>('SELECT id FROM webhook_events WHERE id_event = $1', [d.idEvent]);
      ids[name] = String(row.id);
    };
    const connection = connectionPayload();
    tokens.push(connection.connection_token, connection.access_token, connection.refresh_token);
    await send('connection', 'connection.created', connection);
    await send('company', 'crm.company.push', { id: 'co-1', name: 'Acme' });
    await send('deal', 'crm.deal.created', { id: 'deal-1' });
    for (let i = 0; i < 5; i++) await send(`note${i}`, 'crm.note.created', { id: `note-${i}` });
    await waitFor(
      async () => {
        const rows = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_events WHERE status IN ('processed', 'dead')`,
        );
        return rows[0].n === 8;
      },
      10_000,
      'all events settled',
    );
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it.each([
    ['no key', undefined],
    ['a wrong key', 'nope'],
    ['a key differing in the last character', `${ADMIN_KEY.slice(0, -1)}X`],
  ])('should refuse %s with 401 on every route', async (_, key) => {
    for (const [method, path] of [
      ['GET', '/admin/events'],
      ['GET', `/admin/events/${ids.company}`],
      ['POST', `/admin/events/${ids.company}/replay`],
      ['POST', '/admin/events/replay'],
    ]) {
      const res = await fetch(`${service.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: method === 'POST' ? '{"status":"dead"}' : undefined,
      });
      expect(res.status).toBe(401);
    }
  });

  it('should list events newest first, with cursor pagination', async () => {
    const first = await admin('/admin/events?limit=3');
    expect(first.status).toBe(200);
    expect(first.json.items.map((e: { id: string }) => e.id)).toEqual([ids.note4, ids.note3, ids.note2]);
    const second = await admin(`/admin/events?limit=3&cursor=${first.json.nextCursor}`);
    expect(second.json.items.map((e: { id: string }) => e.id)).toEqual([ids.note1, ids.note0, ids.deal]);
    const last = await admin(`/admin/events?limit=3&cursor=${second.json.nextCursor}`);
    expect(last.json.items.map((e: { id: string }) => e.id)).toEqual([ids.company, ids.connection]);
    expect(last.json.nextCursor).toBeNull();
  });

  it('should filter by status, type (delivered or normalised) and endpoint', async () => {
    expect((await admin('/admin/events?status=dead')).json.items.map((e: { id: string }) => e.id)).toEqual([ids.deal]);
    const byType = await admin('/admin/events?type=crm.company.created');
    expect(byType.json.items).toHaveLength(1);
    expect(byType.json.items[0]).toMatchObject({
      id: ids.company,
      type: 'crm.company.push',
      normalizedType: 'crm.company.created',
      status: 'processed',
    });
    expect((await admin('/admin/events?type=crm.company.push')).json.items).toHaveLength(1);
    expect((await admin(`/admin/events?endpointId=${endpoint.id}&limit=100`)).json.items).toHaveLength(8);
  });

  it.each([
    ['status=lost', /status must be one of/],
    ['limit=0', /limit/],
    ['cursor=abc', /cursor must be/],
    ['endpointId=nope', /endpointId must be/],
    ['unknown=1', /should not exist/],
  ])('should answer a bad query (%s) with 400 saying what to fix', async (query, message) => {
    const res = await admin(`/admin/events?${query}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.message)).toMatch(message);
  });

  it('should show one event with its listener outcomes and a payload whose credentials are redacted', async () => {
    const res = await admin(`/admin/events/${ids.connection}`);
    expect(res.status).toBe(200);
    expect(res.json.payload.connection_token).toBe('[redacted]');
    expect(res.json.payload.access_token).toBeUndefined();
    expect(res.json.listeners).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ listener: 'test.recorder', status: 'succeeded', attempts: 1 }),
      ]),
    );

    const dead = await admin(`/admin/events/${ids.deal}`);
    expect(dead.json).toMatchObject({ status: 'dead', attempts: 2 });
    expect(dead.json.lastError).toContain('broken listener');
    expect(dead.json.listeners).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ listener: 'test.broken', status: 'dead', lastError: 'broken listener' }),
      ]),
    );
  });

  it('should keep the listeners of a first attempt that succeeded whole on the event, without listener rows, and show and replay them like any', async () => {
    // Issue 17: such an event wrote one row per listener (plus its index entry and a foreign-key
    // lock on the event) that only said "succeeded once".
    const rows = () =>
      db.query('SELECT listener FROM webhook_event_listeners WHERE event_id = $1 ORDER BY listener', [ids.company]);
    expect(await rows()).toEqual([]);
    const shown = async () =>
      ((await admin(`/admin/events/${ids.company}`)).json.listeners as { listener: string; attempts: number }[]).find(
        (l) => l.listener === 'test.recorder',
      );
    expect(await shown()).toMatchObject({ status: 'succeeded', attempts: 1, lastError: null });

    // A replay of its unfinished listeners runs none of them.
    expect((await admin(`/admin/events/${ids.company}/replay`, { method: 'POST' })).status).toBe(202);
    await waitFor(
      async () => (await admin(`/admin/events/${ids.company}`)).json.status === 'processed',
      5_000,
      'replayed',
    );
    expect(listeners.callsOf('test.recorder', ids.company)).toHaveLength(1);

    // Every listener with all=true, counts going on.
    expect((await admin(`/admin/events/${ids.company}/replay?all=true`, { method: 'POST' })).status).toBe(202);
    await waitFor(async () => listeners.callsOf('test.recorder', ids.company).length === 2, 5_000, 'all again');
    await waitFor(async () => (await shown())?.attempts === 2, 5_000, 'recorded');
    expect(await shown()).toMatchObject({ status: 'succeeded', attempts: 2, lastError: null });
  });

  it('should answer 404 for an unknown or malformed event id', async () => {
    expect((await admin('/admin/events/999999')).status).toBe(404);
    expect((await admin('/admin/events/not-an-id')).status).toBe(404);
  });

  it('should replay only the unfinished listeners of one event, or all of them with ?all=true', async () => {
    listeners.brokenHealed = true;
    const res = await admin(`/admin/events/${ids.deal}/replay`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ queued: true, id: ids.deal, listeners: 'unfinished' });
    await waitFor(
      async () => (await admin(`/admin/events/${ids.deal}`)).json.status === 'processed',
      5_000,
      'replayed',
    );
    expect(listeners.callsOf('test.recorder', ids.deal)).toHaveLength(1);
    expect(listeners.callsOf('test.broken', ids.deal)).toHaveLength(3);

    const all = await admin(`/admin/events/${ids.deal}/replay?all=true`, { method: 'POST' });
    expect(all.json.listeners).toBe('all');
    await waitFor(async () => listeners.callsOf('test.recorder', ids.deal).length === 2, 5_000, 'all listeners again');
    expect(listeners.callsOf('test.broken', ids.deal)).toHaveLength(4);
  });

  it('should validate a bulk replay request', async () => {
    const res = await admin('/admin/events/replay', { method: 'POST', body: JSON.stringify({ status: 'processed' }) });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.message)).toMatch(/status must be dead or failed/);
    const none = await admin('/admin/events/replay', {
      method: 'POST',
      body: JSON.stringify({ status: 'dead', type: 'crm.task.created' }),
    });
    expect(none).toEqual({ status: 202, json: { queued: 0, skipped: 0 } });
  });

  describe('events whose payload was pruned after INBOX_RETENTION_DAYS', () => {
    const url = () => `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
    const row = (id: string) =>
      db
        .query<{ status: string; attempts: number; last_error: string | null; payload: unknown }>(
          'SELECT status, attempts, last_error, payload FROM webhook_events WHERE id = $1',
          [id],
        )
        .then((rows) => rows[0]);
    const outcomes = (id: string) =>
      db.query('SELECT listener, status, attempts FROM webhook_event_listeners WHERE event_id = $1 ORDER BY listener', [
        id,
      ]);

    it('should refuse to replay one with 409 saying why, and change nothing', async () => {
      const d = delivery({ secret: endpoint.secret, type: 'crm.company.push', payload: { id: 'co-old', name: 'Old' } });
      expect((await post(url(), d)).status).toBe(200);
      const [{ id }] = await db.query<{ id: string }>('SELECT id::text AS id FROM webhook_events WHERE id_event = $1', [
        d.idEvent,
      ]);
      await waitFor(async () => (await row(id)).status === 'processed', 5_000, 'processed');
      await db.query(`UPDATE webhook_events SET processed_at = now() - interval '31 days' WHERE id = $1`, [id]);
      expect(await service.app.get(InboxRetention).prune()).toBe(1);
      const before = { event: await row(id), listeners: await outcomes(id) };
      expect(before.event.payload).toBeNull();
      const calls = listeners.calls.length;

      for (const query of ['', '?all=true']) {
        const res = await admin(`/admin/events/${id}/replay${query}`, { method: 'POST' });
        expect(res.status).toBe(409);
        expect(res.json.message).toMatch(/payload was pruned after the retention period/);
        expect(res.json.code).toBe('EVENT_PAYLOAD_PRUNED');
      }
      // Queued, it would read 'received' (then run its listeners on a null payload and die).
      expect({ event: await row(id), listeners: await outcomes(id) }).toEqual(before);
      expect(listeners.calls.length).toBe(calls);
    });

    it('should skip them in a bulk replay and say how many it skipped', async () => {
      // A dead event whose payload is gone (e.g. driven to dead by a replay of a pruned event before this check).
      const [pruned] = await db.query<{ id: string }>(
        `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, status, attempts, last_error)
         VALUES ($1, gen_random_uuid()::text, 'crm.note.push', 'crm.note.created', NULL, 'dead', 2, 'crm: no payload')
         RETURNING id::text AS id`,
        [endpoint.id],
      );
      const before = await row(pruned.id);
      const res = await admin('/admin/events/replay', {
        method: 'POST',
        body: JSON.stringify({ status: 'dead', type: 'crm.note.created' }),
      });
      expect(res).toEqual({ status: 202, json: { queued: 0, skipped: 1 } });
      expect(await row(pruned.id)).toEqual(before);
    });
  });
});
