import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from './support/app';
import { createTestDatabase, TestDatabase } from './support/database';
import { FakePanora } from './support/fake-panora';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from './support/panora';

const ADMIN_KEY = 'connections-admin-key';

describe('ConnectionsModule: catching connection tokens', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  const tokens: string[] = [];

  const send = async (payload: ReturnType<typeof connectionPayload>) => {
    tokens.push(payload.connection_token, payload.access_token, payload.refresh_token);
    const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload });
    const res = await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d);
    expect(res.status).toBe(200);
    await waitFor(
      async () =>
        (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id_event = $1', [d.idEvent]))[0]
          ?.status === 'processed',
      10_000,
      'connection.created processed',
    );
    return d;
  };
  const connectionRow = async (id: string) =>
    (await db.query<any>('SELECT * FROM connections WHERE id_connection = $1', [id]))[0];
  const outbox = async (id: string) =>
    db.query<{ type: string; payload: any }>(
      'SELECT type, payload FROM outbox_messages WHERE entity_key = $1 ORDER BY seq',
      [`connection:${id}`],
    );
  const admin = async (path: string, init: RequestInit = {}, key = ADMIN_KEY) => {
    const res = await fetch(`${service.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await FakePanora.start('panora-key');
    service = await startTestApp({
      databaseUrl: db.url,
      env: {
        ADMIN_API_KEYS: ADMIN_KEY,
        PANORA_BASE_URL: fake.url,
        PANORA_API_KEY: 'panora-key',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '100',
      },
    });
    endpoint = await insertEndpoint(db);
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
  });

  it('should store the connection with its token sealed, and resolve the app user id', async () => {
    const payload = connectionPayload();
    fake.linkedUsers.set(payload.id_linked_user, {
      id_linked_user: payload.id_linked_user,
      linked_user_origin_id: 'app-user-1',
    });
    await send(payload);

    const row = await waitFor(
      async () => {
        const r = await connectionRow(payload.id_connection);
        return r?.linked_user_origin_id && r;
      },
      5_000,
      'origin id resolved',
    );
    expect(row).toMatchObject({
      provider_slug: 'hubspot',
      vertical: 'crm',
      status: 'valid',
      id_linked_user: payload.id_linked_user,
      linked_user_origin_id: 'app-user-1',
      source: 'webhook',
      token_hint: payload.connection_token.slice(-4),
    });
    expect(row.sealed_connection_token).not.toContain(payload.connection_token);
    expect(fake.requestsTo('GET', `/linked_users/${payload.id_linked_user}`)[0].headers['x-api-key']).toBe(
      'panora-key',
    );

    const events = await outbox(payload.id_connection);
    expect(events.map((e) => e.type)).toEqual(['connections.connection.created', 'connections.connection.updated']);
    expect(events[1].payload).toMatchObject({
      linkedUserOriginId: 'app-user-1',
      changed: ['linked_user_origin_id'],
      reconciled: false,
    });
  });

  it('should keep Panora’s OAuth blobs and the plain token out of every table', async () => {
    const dump = JSON.stringify(
      await db.query(`SELECT (SELECT json_agg(c) FROM connections c) AS c, (SELECT json_agg(e) FROM webhook_events e) AS e,
                             (SELECT json_agg(o) FROM outbox_messages o) AS o`),
    );
    for (const token of tokens) expect(dump).not.toContain(token);
  });

  it('should change nothing when Panora re-sends connection.created for a re-authorisation, unless the token changed', async () => {
    const payload = connectionPayload();
    fake.linkedUsers.set(payload.id_linked_user, { id_linked_user: payload.id_linked_user });
    await send(payload);
    await send({ ...payload }); // same connection, new id_event: nothing new
    expect((await outbox(payload.id_connection)).map((e) => e.type)).toEqual(['connections.connection.created']);
    expect(
      await db.query('SELECT count(*)::int AS n FROM connections WHERE id_connection = $1', [payload.id_connection]),
    ).toEqual([{ n: 1 }]);

    const reauthorised = { ...payload, connection_token: randomUUID(), status: 'valid' };
    await send(reauthorised);
    const events = await outbox(payload.id_connection);
    expect(events.map((e) => e.type)).toEqual(['connections.connection.created', 'connections.connection.updated']);
    expect(events[1].payload.changed).toEqual(['connection_token']);
    const token = await admin(`/admin/connections/${payload.id_connection}/token`);
    expect(token.json).toEqual({ idConnection: payload.id_connection, connectionToken: reauthorised.connection_token });
  });

  it('should retry the linked-user lookup when Panora fails, without storing the connection twice', async () => {
    const payload = connectionPayload();
    fake.linkedUsers.set(payload.id_linked_user, {
      id_linked_user: payload.id_linked_user,
      linked_user_origin_id: 'app-user-2',
    });
    fake.failWith(500, { route: `GET /linked_users/${payload.id_linked_user}`, times: 3 });
    const d = await send(payload);
    const [event] = await db.query<{ id: string }>('SELECT id FROM webhook_events WHERE id_event = $1', [d.idEvent]);
    const outcomes = await db.query(
      'SELECT listener, status, attempts FROM webhook_event_listeners WHERE event_id = $1 ORDER BY listener',
      [event.id],
    );
    expect(outcomes).toEqual([
      { listener: 'bus.forward', status: 'succeeded', attempts: 1 },
      { listener: 'connections.resolve-linked-user', status: 'succeeded', attempts: 2 },
      { listener: 'connections.store', status: 'succeeded', attempts: 1 },
    ]);
    expect((await connectionRow(payload.id_connection)).linked_user_origin_id).toBe('app-user-2');
  });

  describe('lookup API', () => {
    it('should find connections by app user, linked user, provider and vertical, never listing tokens', async () => {
      const byOrigin = await admin('/admin/connections?originId=app-user-1');
      expect(byOrigin.status).toBe(200);
      expect(byOrigin.json.items).toHaveLength(1);
      expect(byOrigin.json.items[0]).toMatchObject({
        linkedUserOriginId: 'app-user-1',
        hasToken: true,
        providerSlug: 'hubspot',
      });
      const all = await admin('/admin/connections?provider=hubspot&vertical=crm');
      expect(all.json.items.length).toBeGreaterThanOrEqual(3);
      expect((await admin('/admin/connections?provider=salesforce')).json.items).toEqual([]);
      for (const token of tokens) expect(all.text).not.toContain(token);
      const one = await admin(`/admin/connections/${byOrigin.json.items[0].idConnection}`);
      for (const token of tokens) expect(one.text).not.toContain(token);
    });

    it('should answer 404 for an unknown connection, and 401 without the admin key', async () => {
      expect((await admin('/admin/connections/nope/token')).status).toBe(404);
      expect((await admin('/admin/connections', {}, 'wrong')).status).toBe(401);
      expect((await admin('/admin/connections/x/token', {}, 'wrong')).status).toBe(401);
    });
  });

  describe('reconciliation with GET /connections', () => {
    it('should add connections Panora has and we missed, marked as reconciled, and change nothing the second time', async () => {
      const missed = connectionPayload({ id_connection: `missed-${randomUUID()}` });
      tokens.push(missed.connection_token);
      fake.connections.push(missed);
      fake.linkedUsers.set(missed.id_linked_user, {
        id_linked_user: missed.id_linked_user,
        linked_user_origin_id: 'app-user-3',
      });

      const first = await admin('/admin/connections/reconcile', { method: 'POST' });
      expect(first.status).toBe(201);
      expect(first.json).toMatchObject({ seen: 1, created: 1, failed: 0 });
      expect(first.json.originIdsResolved).toBeGreaterThanOrEqual(1);
      expect(await connectionRow(missed.id_connection)).toMatchObject({
        source: 'reconciliation',
        linked_user_origin_id: 'app-user-3',
      });
      const events = await outbox(missed.id_connection);
      expect(events[0]).toMatchObject({ type: 'connections.connection.created', payload: { reconciled: true } });

      const second = await admin('/admin/connections/reconcile', { method: 'POST' });
      expect(second.json).toMatchObject({ seen: 1, created: 0, updated: 0, unchanged: 1 });
      for (const token of tokens) expect(second.text).not.toContain(token);
    });
  });
});
