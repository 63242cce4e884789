import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ConnectionsListener } from '../../src/listeners/connections/connections.listener';
import { PanoraClient } from '../../src/panora/panora.client';
import { PanoraWebhookEvent } from '../../src/dispatch/panora-event';
import type { PanoraConnection } from '../../src/panora/panora-payloads';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { expectOutboxRowsKeepTheirContracts } from './outbox-contracts';
import { FakePanora } from '../support/fake-panora';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { LISTENER_OUTCOMES } from '../support/listener-outcomes';

const ADMIN_KEY = 'connections-admin-key';

/** Inbox ids for events built by hand, far above the ids of this file's real deliveries. */
let fakeInboxId = 1_000_000_000;

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
    // A re-authorisation: the same connection and token, new OAuth blobs and expiry (never stored).
    await send({
      ...payload,
      access_token: 'enc:panora-access-blob-2',
      expiration_timestamp: '2027-01-01T00:00:00.000Z',
    });
    // The very same delivery under a new id_event is a replay: answered duplicate, never stored.
    const replay = delivery({ secret: endpoint.secret, type: 'connection.created', payload });
    expect((await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, replay)).json).toEqual({
      received: true,
      duplicate: true,
    });
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

  describe('the two connection.created listeners, in either order', () => {
    const listenerEvent = (payload: ReturnType<typeof connectionPayload>) => {
      // What listeners get: the inbox has dropped Panora's OAuth blobs.
      const { access_token: _access, refresh_token: _refresh, ...data } = payload;
      return new PanoraWebhookEvent<PanoraConnection>('connection.created', data, {
        // Increasing, as inbox ids are: a later event of a connection is a newer one.
        inboxId: String(++fakeInboxId),
        endpointId: endpoint.id,
        idEvent: randomUUID(),
        deliveredType: 'connection.created',
        receivedAt: new Date(),
        attempt: 1,
      });
    };

    it('should resolve the app user id on the first attempt when resolve-linked-user runs before store', async () => {
      const listener = service.app.get(ConnectionsListener);
      const payload = connectionPayload();
      tokens.push(payload.connection_token);
      fake.linkedUsers.set(payload.id_linked_user, {
        id_linked_user: payload.id_linked_user,
        linked_user_origin_id: 'app-user-first',
      });
      const event = listenerEvent(payload);

      // The bad order, made deterministic: store has not run (let alone committed) yet.
      await expect(listener.resolveLinkedUser(event)).resolves.toBeUndefined();
      expect(await connectionRow(payload.id_connection)).toMatchObject({
        linked_user_origin_id: 'app-user-first',
        token_hint: payload.connection_token.slice(-4),
        provider_slug: 'hubspot',
        source: 'webhook',
      });

      // store runs afterwards: the row is already what the event says, so nothing changes.
      await expect(listener.store(event)).resolves.toBeUndefined();
      expect((await connectionRow(payload.id_connection)).linked_user_origin_id).toBe('app-user-first');
      expect((await outbox(payload.id_connection)).map((e) => e.type)).toEqual([
        'connections.connection.created',
        'connections.connection.updated',
      ]);
      expect((await admin(`/admin/connections/${payload.id_connection}/token`)).json.connectionToken).toBe(
        payload.connection_token,
      );
    });

    it('should not let a late retry of an older connection.created undo a re-authorisation', async () => {
      const listener = service.app.get(ConnectionsListener);
      const payload = connectionPayload();
      const reauthorised = { ...payload, connection_token: randomUUID() };
      tokens.push(payload.connection_token, reauthorised.connection_token);
      fake.linkedUsers.set(payload.id_linked_user, {
        id_linked_user: payload.id_linked_user,
        linked_user_origin_id: 'app-user-late',
      });
      const older = listenerEvent(payload);
      await listener.store(older);
      await listener.store(listenerEvent(reauthorised));
      // The older event's linked-user lookup succeeds only now (e.g. retried after a Panora outage).
      await expect(listener.resolveLinkedUser(older)).resolves.toBeUndefined();
      expect((await connectionRow(payload.id_connection)).linked_user_origin_id).toBe('app-user-late');
      expect((await admin(`/admin/connections/${payload.id_connection}/token`)).json.connectionToken).toBe(
        reauthorised.connection_token,
      );
    });

    it('should resolve every app user id on the first attempt across concurrent deliveries', async () => {
      const payloads = Array.from({ length: 8 }, () => connectionPayload());
      for (const [i, p] of payloads.entries()) {
        fake.linkedUsers.set(p.id_linked_user, { id_linked_user: p.id_linked_user, linked_user_origin_id: `app-${i}` });
      }
      // Posted at once, so the dispatcher takes them in one round: both listeners of each event run side by side.
      const deliveries = payloads.map((payload) => {
        tokens.push(payload.connection_token);
        return delivery({ secret: endpoint.secret, type: 'connection.created', payload });
      });
      const answers = await Promise.all(
        deliveries.map((d) => post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d)),
      );
      expect(answers.map((a) => a.status)).toEqual(payloads.map(() => 200));
      await waitFor(
        async () =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM webhook_events WHERE id_event = ANY($1) AND status = 'processed'`,
              [deliveries.map((d) => d.idEvent)],
            )
          )[0].n === payloads.length,
        10_000,
        'all connection.created processed',
      );
      const outcomes = await db.query<{ listener: string; status: string; attempts: number }>(
        `SELECT l.listener, l.status, l.attempts FROM ${LISTENER_OUTCOMES} AS l
           JOIN webhook_events e ON e.id = l.event_id
          WHERE e.id_event = ANY($1) AND l.listener = 'connections.resolve-linked-user'`,
        [deliveries.map((d) => d.idEvent)],
      );
      expect(outcomes).toEqual(
        payloads.map(() => ({ listener: 'connections.resolve-linked-user', status: 'succeeded', attempts: 1 })),
      );
      for (const [i, p] of payloads.entries()) {
        expect((await connectionRow(p.id_connection)).linked_user_origin_id).toBe(`app-${i}`);
      }
    });
  });

  it('should retry the linked-user lookup when Panora fails, without storing the connection twice', async () => {
    const payload = connectionPayload();
    fake.linkedUsers.set(payload.id_linked_user, {
      id_linked_user: payload.id_linked_user,
      linked_user_origin_id: 'app-user-2',
    });
    // Three 500s use up the client's three tries of the first run: the listener is retried once.
    fake.failWith(500, { route: `GET /linked_users/${payload.id_linked_user}`, times: 3 });
    const d = await send(payload);
    const [event] = await db.query<{ id: string }>('SELECT id FROM webhook_events WHERE id_event = $1', [d.idEvent]);
    const outcomes = await db.query(
      `SELECT listener, status, attempts FROM ${LISTENER_OUTCOMES} AS l WHERE event_id = $1 ORDER BY listener`,
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

    it('should answer 409 while another instance holds the reconciliation lock, and run once it is free', async () => {
      // Another instance: a session of its own holding the reconciler's advisory lock.
      const other = new Client({ connectionString: db.url });
      await other.connect();
      try {
        await other.query('SELECT pg_advisory_lock($1)', [0x70776331]);
        const busy = await admin('/admin/connections/reconcile', { method: 'POST' });
        expect(busy.status).toBe(409);
        expect(busy.text).toContain('RECONCILE_BUSY');
        await other.query('SELECT pg_advisory_unlock($1)', [0x70776331]);
      } finally {
        await other.end();
      }
      expect((await admin('/admin/connections/reconcile', { method: 'POST' })).status).toBe(201);
      // Released after the run: the next one is not refused either.
      expect((await admin('/admin/connections/reconcile', { method: 'POST' })).status).toBe(201);
    });
  });
  describe('state never goes back in time: an older write changes nothing', () => {
    const inboxId = async (idEvent: string) =>
      (await db.query<{ id: string }>('SELECT id::text AS id FROM webhook_events WHERE id_event = $1', [idEvent]))[0]
        .id;
    const storedToken = async (id: string) => (await admin(`/admin/connections/${id}/token`)).json.connectionToken;
    /** Replays every listener of a processed event and waits until it is processed again. */
    const replay = async (id: string) => {
      expect((await admin(`/admin/events/${id}/replay?all=true`, { method: 'POST' })).status).toBe(202);
      await waitFor(
        async () =>
          (
            await db.query<{ done: boolean }>(
              `SELECT e.status = 'processed' AND EXISTS (SELECT 1 FROM webhook_event_listeners l
                        WHERE l.event_id = e.id AND l.listener = 'connections.store' AND l.status = 'succeeded') AS done
                 FROM webhook_events e WHERE e.id = $1`,
              [id],
            )
          )[0].done,
        10_000,
        'the replayed event processed',
      );
    };

    it('should not let a replay of an event received before a reconciliation undo what it brought in', async () => {
      const payload = connectionPayload();
      const fromPanora = { ...payload, connection_token: randomUUID() };
      tokens.push(payload.connection_token, fromPanora.connection_token);
      const old = await inboxId((await send(payload)).idEvent);
      // The re-authorisation's webhook was lost; reconciliation brings in the token Panora has now.
      fake.connections.push(fromPanora);
      const report = await admin('/admin/connections/reconcile', { method: 'POST' });
      expect(report.json).toMatchObject({ updated: 1, failed: 0 });
      expect(await storedToken(payload.id_connection)).toBe(fromPanora.connection_token);
      const before = await outbox(payload.id_connection);

      await replay(old);
      expect(await storedToken(payload.id_connection)).toBe(fromPanora.connection_token);
      expect(await outbox(payload.id_connection)).toEqual(before);
    });

    it('should leave a connection to the event received while reconciliation was reading Panora', async () => {
      const payload = connectionPayload();
      const readByReconciliation = { ...payload, connection_token: randomUUID() };
      const newer = { ...payload, connection_token: randomUUID() };
      tokens.push(payload.connection_token, readByReconciliation.connection_token, newer.connection_token);
      await send(payload);
      fake.connections.push(readByReconciliation);
      // Panora answers with what it has; before reconciliation gets to apply it, a re-authorisation arrives.
      const panora = service.app.get(PanoraClient);
      const read = panora.listConnections.bind(panora);
      let answered!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => (answered = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      jest.spyOn(panora, 'listConnections').mockImplementationOnce(async () => {
        const connections = await read();
        answered();
        await released;
        return connections;
      });
      const reconciling = admin('/admin/connections/reconcile', { method: 'POST' });
      await arrived;
      await send(newer);
      release();
      const report = await reconciling;
      expect(await storedToken(payload.id_connection)).toBe(newer.connection_token);
      expect(report.json).toMatchObject({ stale: 1, failed: 0 });
      expect((await outbox(payload.id_connection)).map((m) => m.payload.reconciled)).toEqual([false, false]);
    });
  });

  // Last: every event the tests above made (created, re-authorised, reconciled).
  it('should have written only outbox rows that keep the contract of their routing key', async () => {
    const types = new Set((await expectOutboxRowsKeepTheirContracts(db)).map((row) => row.type));
    expect([...types]).toEqual(
      expect.arrayContaining(['connections.connection.created', 'connections.connection.updated']),
    );
  });
});
