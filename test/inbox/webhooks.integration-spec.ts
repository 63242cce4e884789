import { createHmac, randomUUID } from 'node:crypto';
import { InboxRetention } from '../../src/inbox/inbox-retention.service';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, sign, waitFor } from '../support/panora';
import { TestListeners, TestListenersModule } from '../support/test-listeners';
import { LISTENER_OUTCOMES } from '../support/listener-outcomes';

describe('Receiving Panora webhooks (POST /webhooks/panora/:endpointId)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let listeners: TestListeners;
  let endpoint: { id: string; secret: string };
  let url: string;
  const responses: string[] = [];

  const count = async (sql = 'SELECT count(*)::int AS n FROM webhook_events') =>
    (await db.query<{ n: number }>(sql))[0].n;
  const send = async (d: { headers: Record<string, string>; body: string }, to = url) => {
    const res = await post(to, d);
    responses.push(res.text);
    return res;
  };
  const eventRow = async (idEvent: string) =>
    (
      await db.query<any>('SELECT * FROM webhook_events WHERE endpoint_id = $1 AND id_event = $2', [
        endpoint.id,
        idEvent,
      ])
    )[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: {
        ADMIN_API_KEYS: 'admin-key-0123456789',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '3',
        DISPATCH_POLL_MS: '200',
      },
    });
    listeners = service.app.get(TestListeners);
    endpoint = await insertEndpoint(db);
    url = `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  afterAll(() => {
    // Whatever happened above: no response ever carried the secret.
    for (const text of responses) expect(text).not.toContain(endpoint.secret);
  });

  describe('accepted deliveries', () => {
    it('should store a delivery whose data is a JSON string (as Panora sends it) and hand it to the listeners', async () => {
      const payload = connectionPayload();
      const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload });
      const res = await send(d);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ received: true });

      const row = await eventRow(d.idEvent);
      expect(row).toMatchObject({ type: 'connection.created', normalized_type: 'connection.created' });
      // Panora's OAuth blobs are never stored, the connection token only sealed.
      expect(row.payload.access_token).toBeUndefined();
      expect(row.payload.refresh_token).toBeUndefined();
      expect(JSON.stringify(row.payload)).not.toContain(payload.connection_token);
      expect(row.payload.id_connection).toBe(payload.id_connection);

      const calls = await waitFor(async () => {
        const found = listeners.callsOf('test.recorder', String(row.id));
        return found.length > 0 && found;
      });
      expect(calls).toHaveLength(1);
      // Listeners get the real token back, and never the dropped blobs.
      expect(calls[0].data).toMatchObject({
        id_connection: payload.id_connection,
        connection_token: payload.connection_token,
      });
      expect((calls[0].data as Record<string, unknown>).access_token).toBeUndefined();
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed', 5_000, 'processed');
    });

    it('should accept data sent as an object, as Panora documents it', async () => {
      const d = delivery({
        secret: endpoint.secret,
        type: 'crm.company.created',
        payload: { id: 'co-1', name: 'Acme' },
        asObject: true,
      });
      const res = await send(d);
      expect(res.status).toBe(200);
      expect((await eventRow(d.idEvent)).payload).toEqual({ id: 'co-1', name: 'Acme' });
    });

    it('should verify the worked example of panora-facts.md byte for byte', async () => {
      const secret = '801f9ede-c698-4e66-a7fc-48d19eebaa4f';
      const example = await insertEndpoint(db, { secret });
      const body =
        '{"id_event":"f4e1ff72-e727-409a-8935-a63a63d4891e","data":"{\\"id_connection\\":\\"c1\\",\\"connection_token\\":\\"t1\\",\\"id_linked_user\\":\\"u1\\"}","type":"connection.created"}';
      expect(sign(secret, JSON.parse(body).data)).toBe(
        'a13dff77e63cb90fc2732e1dd8ff088e5dc6546a99a3eacdcd278d7ebc09b7a3',
      );
      const res = await send(
        {
          headers: {
            'content-type': 'application/json',
            'panora-signature': 'a13dff77e63cb90fc2732e1dd8ff088e5dc6546a99a3eacdcd278d7ebc09b7a3',
          },
          body,
        },
        `${service.baseUrl}/webhooks/panora/${example.id}`,
      );
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('a13dff77');
    });

    it('should map crm.company.push to crm.company.created', async () => {
      const d = delivery({
        secret: endpoint.secret,
        type: 'crm.company.push',
        payload: { id: 'co-2', name: 'Pushed' },
      });
      expect((await send(d)).status).toBe(200);
      const row = await eventRow(d.idEvent);
      expect(row).toMatchObject({ type: 'crm.company.push', normalized_type: 'crm.company.created' });
      await waitFor(async () => listeners.callsOf('test.recorder', String(row.id)).length === 1);
      expect(listeners.callsOf('test.recorder', String(row.id))[0].type).toBe('crm.company.created');
      // Siblings can also take Panora's own event from the bus, under its normalised name.
      const forwarded = await waitFor(async () => {
        const rows = await db.query<any>(`SELECT type, payload FROM outbox_messages WHERE entity_key = $1`, [
          `panora-event:${endpoint.id}:${d.idEvent}`,
        ]);
        return rows.length > 0 && rows;
      });
      expect(forwarded).toEqual([
        {
          type: 'crm.company.created',
          payload: expect.objectContaining({
            idEvent: d.idEvent,
            deliveredType: 'crm.company.push',
            payload: { id: 'co-2', name: 'Pushed' },
          }),
        },
      ]);
    });

    it('should keep unicode, emoji and \\u2028 exactly', async () => {
      const payload = { id: 'u-1', name: 'Zoë 🚀 Ærø – 北京', note: 'line\u2028separator\u2029para', quote: '"\\' };
      const d = delivery({ secret: endpoint.secret, type: 'crm.contact.created', payload });
      expect((await send(d)).status).toBe(200);
      expect((await eventRow(d.idEvent)).payload).toEqual(payload);
    });

    it('should store a large *.pulled array of raw rows', async () => {
      const rows = Array.from({ length: 5_000 }, (_, i) => ({
        id_crm_contact: randomUUID(),
        first_name: `n${i}`,
        remote_id: String(i),
        created_at: '2026-11-01',
      }));
      const d = delivery({ secret: endpoint.secret, type: 'crm.contact.pulled', payload: rows });
      expect(d.body.length).toBeGreaterThan(400_000);
      expect((await send(d)).status).toBe(200);
      const [stored] = await db.query<{ n: number }>(
        'SELECT jsonb_array_length(payload) AS n FROM webhook_events WHERE id_event = $1',
        [d.idEvent],
      );
      expect(stored.n).toBe(5_000);
    });

    it('should store an unknown type, and mark it processed as unhandled', async () => {
      const d = delivery({ secret: endpoint.secret, type: 'crm.hubspot.passthrough', payload: { ok: true } });
      expect((await send(d)).status).toBe(200);
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed', 5_000, 'processed');
    });
  });

  describe('duplicates', () => {
    it('should answer a repeated id_event with duplicate: true, storing and processing it once', async () => {
      const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
      expect((await send(d)).json).toEqual({ received: true });
      expect((await send(d)).json).toEqual({ received: true, duplicate: true });
      const row = await eventRow(d.idEvent);
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed');
      expect(listeners.callsOf('test.recorder', String(row.id))).toHaveLength(1);
    });

    it('should store one row when the same delivery arrives 50 times at once', async () => {
      const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
      const results = await Promise.all(Array.from({ length: 50 }, () => send(d)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(results.filter((r) => r.json.duplicate !== true)).toHaveLength(1);
      expect(await count(`SELECT count(*)::int AS n FROM webhook_events WHERE id_event = '${d.idEvent}'`)).toBe(1);
      const row = await eventRow(d.idEvent);
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed');
      expect(listeners.callsOf('test.recorder', String(row.id))).toHaveLength(1);
    });

    it('should treat the same id_event at two endpoints as two events', async () => {
      const other = await insertEndpoint(db);
      const idEvent = randomUUID();
      const payload = { id: 'x' };
      expect(
        (await send(delivery({ secret: endpoint.secret, type: 'crm.company.created', payload, idEvent }))).json,
      ).toEqual({ received: true });
      expect(
        (
          await send(
            delivery({ secret: other.secret, type: 'crm.company.created', payload, idEvent }),
            `${service.baseUrl}/webhooks/panora/${other.id}`,
          )
        ).json,
      ).toEqual({ received: true });
    });
  });

  describe('rejections (nothing stored)', () => {
    const valid = () => delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });

    const cases: [string, () => { headers: Record<string, string>; body: string; path?: string }, number, RegExp][] = [
      [
        'a missing signature',
        () => ({ ...valid(), headers: { 'content-type': 'application/json' } }),
        401,
        /Missing Panora-Signature/,
      ],
      [
        'an empty signature',
        () => ({ ...valid(), headers: { 'content-type': 'application/json', 'panora-signature': '' } }),
        401,
        /Missing Panora-Signature/,
      ],
      [
        'a non-hex signature',
        () => ({ ...valid(), headers: { 'content-type': 'application/json', 'panora-signature': 'z'.repeat(64) } }),
        401,
        /Malformed/,
      ],
      [
        'a short signature',
        () => ({ ...valid(), headers: { 'content-type': 'application/json', 'panora-signature': 'ab'.repeat(31) } }),
        401,
        /Malformed/,
      ],
      [
        'a long signature',
        () => ({ ...valid(), headers: { 'content-type': 'application/json', 'panora-signature': 'ab'.repeat(33) } }),
        401,
        /Malformed/,
      ],
      [
        'the raw secret as the signature (pre-2024-07 Panora)',
        () => ({ ...valid(), headers: { 'content-type': 'application/json', 'panora-signature': endpoint.secret } }),
        401,
        /Malformed/,
      ],
      [
        'a signature made with another secret',
        () => delivery({ secret: randomUUID(), type: 'connection.created', payload: {} }),
        401,
        /Invalid Panora-Signature/,
      ],
      [
        'a signature over the raw body instead of data',
        () => {
          const d = valid();
          return {
            ...d,
            headers: {
              ...d.headers,
              'panora-signature': createHmac('sha256', endpoint.secret).update(d.body).digest('hex'),
            },
          };
        },
        401,
        /Invalid Panora-Signature/,
      ],
      [
        'data altered after signing',
        () => {
          const d = valid();
          return { ...d, body: d.body.replace('hubspot', 'hubspoT') };
        },
        401,
        /Invalid Panora-Signature/,
      ],
      [
        'a non-JSON content type',
        () => ({ ...valid(), headers: { ...valid().headers, 'content-type': 'text/plain' } }),
        415,
        /application\/json/,
      ],
      [
        'a body that is a JSON array',
        () => ({
          headers: { 'content-type': 'application/json', 'panora-signature': sign(endpoint.secret, 'x') },
          body: '[1,2]',
        }),
        400,
        /must be a JSON object/,
      ],
      [
        'a body without id_event and type',
        () => ({
          headers: { 'content-type': 'application/json', 'panora-signature': sign(endpoint.secret, '{}') },
          body: '{"data":"{}"}',
        }),
        400,
        /id_event/,
      ],
      [
        'an id_event of 10 KB',
        () =>
          delivery({ secret: endpoint.secret, type: 'connection.created', payload: {}, idEvent: 'x'.repeat(10_240) }),
        400,
        /id_event must be at most 255/,
      ],
      [
        'malformed JSON',
        () => ({
          headers: { 'content-type': 'application/json', 'panora-signature': 'a'.repeat(64) },
          body: '{"id_event":"x",',
        }),
        400,
        /not valid JSON/,
      ],
      [
        'signed string data that is not JSON',
        () => {
          const data = 'not json {';
          return {
            headers: { 'content-type': 'application/json', 'panora-signature': sign(endpoint.secret, data) },
            body: JSON.stringify({ id_event: randomUUID(), type: 'connection.created', data }),
          };
        },
        400,
        /data is not valid JSON/,
      ],
      [
        'data nested 10,000 levels deep',
        () => {
          const data = '['.repeat(10_000) + ']'.repeat(10_000);
          return {
            headers: { 'content-type': 'application/json', 'panora-signature': sign(endpoint.secret, data) },
            body: JSON.stringify({ id_event: randomUUID(), type: 'crm.contact.pulled', data }),
          };
        },
        400,
        /deeper than 128/,
      ],
      [
        'an unknown endpoint',
        () => ({ ...valid(), path: `/webhooks/panora/${randomUUID()}` }),
        404,
        /Unknown or disabled webhook endpoint/,
      ],
      [
        'a non-UUID endpoint id',
        () => ({ ...valid(), path: '/webhooks/panora/not-a-uuid' }),
        404,
        /Unknown or disabled/,
      ],
      [
        'path traversal in the endpoint id',
        () => ({ ...valid(), path: '/webhooks/panora/..%2F..%2Fadmin%2Fevents' }),
        404,
        /Unknown or disabled|No such route/,
      ],
    ];

    it.each(cases)('should refuse %s', async (_, make, status, message) => {
      const before = await count();
      const { path, ...d } = make();
      const res = await send(d, path ? `${service.baseUrl}${path}` : url);
      expect(res.status).toBe(status);
      expect(JSON.stringify(res.json.message)).toMatch(message);
      expect(await count()).toBe(before);
      const expected = sign(endpoint.secret, JSON.parse(valid().body).data);
      expect(res.text).not.toContain(expected);
    });

    it('should refuse a disabled endpoint with 404', async () => {
      const disabled = await insertEndpoint(db, { active: false });
      const res = await send(
        delivery({ secret: disabled.secret, type: 'connection.created', payload: {} }),
        `${service.baseUrl}/webhooks/panora/${disabled.id}`,
      );
      expect(res.status).toBe(404);
    });

    it('should refuse a body over the limit with 413', async () => {
      const before = await count();
      const big = delivery({
        secret: endpoint.secret,
        type: 'crm.contact.pulled',
        payload: ['x'.repeat(5 * 1024 * 1024)],
      });
      const res = await send(big);
      expect(res.status).toBe(413);
      expect(await count()).toBe(before);
    });

    it('should accept a type altered in transit (Panora does not sign it) but store what was delivered', async () => {
      // id_event and type are outside Panora's signature: the receiver cannot tell, so it keeps
      // the delivered type for the record and routes on it.
      const d = delivery({ secret: endpoint.secret, type: 'crm.company.created', payload: { id: 'co-3' } });
      const altered = { ...d, body: d.body.replace('crm.company.created', 'crm.note.created') };
      expect((await send(altered)).status).toBe(200);
      expect((await eventRow(d.idEvent)).type).toBe('crm.note.created');
    });

    it('should stay healthy after all of that', async () => {
      expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    });
  });

  describe('processing', () => {
    it('should retry a failing listener with backoff without re-running the listeners that succeeded', async () => {
      const d = delivery({
        secret: endpoint.secret,
        type: 'crm.contact.created',
        payload: { id: 'ct-1', first_name: 'Ada' },
      });
      expect((await send(d)).status).toBe(200);
      const row = await eventRow(d.idEvent);
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed', 10_000, 'processed after retries');
      expect(listeners.callsOf('test.flaky', String(row.id))).toHaveLength(3);
      expect(listeners.callsOf('test.recorder', String(row.id))).toHaveLength(1);
      const outcomes = await db.query(
        `SELECT listener, status, attempts FROM webhook_event_listeners WHERE event_id = $1 AND listener LIKE 'test.%' ORDER BY listener`,
        [row.id],
      );
      expect(outcomes).toEqual([
        { listener: 'test.flaky', status: 'succeeded', attempts: 3 },
        { listener: 'test.recorder', status: 'succeeded', attempts: 1 },
      ]);
    });

    it('should hand batch listeners whole rounds, and isolate a poisoned event so the others succeed', async () => {
      const sent = Array.from({ length: 12 }, (_, i) =>
        delivery({ secret: endpoint.secret, type: 'crm.task.created', payload: { id: `task-${i}`, poison: i === 5 } }),
      );
      const results = await Promise.all(sent.map((d) => send(d)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      const ids = await Promise.all(sent.map(async (d) => String((await eventRow(d.idEvent)).id)));
      await waitFor(
        async () => {
          const rows = await Promise.all(sent.map((d) => eventRow(d.idEvent)));
          return rows.every((r) => r.status === 'processed' || r.status === 'dead');
        },
        10_000,
        'all tasks settled',
      );
      const outcomes = await db.query<{ event_id: string; status: string }>(
        `SELECT event_id::text, status FROM ${LISTENER_OUTCOMES} AS l WHERE listener = 'test.batch' AND event_id = ANY($1::bigint[])`,
        [ids],
      );
      const poisoned = ids[5];
      expect(outcomes.filter((o) => o.event_id !== poisoned).every((o) => o.status === 'succeeded')).toBe(true);
      expect(outcomes.filter((o) => o.event_id !== poisoned)).toHaveLength(11);
      expect(outcomes.find((o) => o.event_id === poisoned)?.status).toBe('dead');
      expect((await eventRow(sent[5].idEvent)).last_error).toContain('test.batch: poisoned batch');
      // Every healthy event was handled in at least one successful call, none twice.
      const succeededCalls = listeners.batches.filter((batch) => !batch.includes(poisoned));
      for (const id of ids.filter((id) => id !== poisoned)) {
        expect(succeededCalls.filter((batch) => batch.includes(id))).toHaveLength(1);
      }
    });

    it('should drop payloads past INBOX_RETENTION_DAYS but keep the rows, so a late re-delivery stays a duplicate', async () => {
      const d = delivery({ secret: endpoint.secret, type: 'crm.company.created', payload: { id: 'old-co' } });
      expect((await send(d)).status).toBe(200);
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed', 5_000, 'processed');
      await db.query(`UPDATE webhook_events SET processed_at = now() - interval '31 days' WHERE id_event = $1`, [
        d.idEvent,
      ]);
      expect(await service.app.get(InboxRetention).prune()).toBe(1);
      expect((await eventRow(d.idEvent)).payload).toBeNull();
      expect((await send(d)).json).toEqual({ received: true, duplicate: true });
      expect(await service.app.get(InboxRetention).prune()).toBe(0);
    });

    it('should mark an event dead after the last attempt, and revive it with a bulk replay', async () => {
      listeners.brokenHealed = false;
      const d = delivery({ secret: endpoint.secret, type: 'crm.deal.created', payload: { id: 'deal-1' } });
      expect((await send(d)).status).toBe(200);
      const row = await eventRow(d.idEvent);
      const dead = await waitFor(
        async () => {
          const r = await eventRow(d.idEvent);
          return r.status === 'dead' && r;
        },
        10_000,
        'dead',
      );
      expect(dead.attempts).toBe(3);
      expect(dead.last_error).toContain('test.broken: broken listener');
      expect(listeners.callsOf('test.broken', String(row.id))).toHaveLength(3);

      listeners.brokenHealed = true;
      const replay = await fetch(`${service.baseUrl}/admin/events/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer admin-key-0123456789' },
        body: JSON.stringify({ status: 'dead', type: 'crm.deal.created' }),
      });
      expect(replay.status).toBe(202);
      expect(await replay.json()).toMatchObject({ queued: 1, skipped: 0, ids: [String(row.id)] });
      await waitFor(async () => (await eventRow(d.idEvent)).status === 'processed', 5_000, 'processed after replay');
      expect(listeners.callsOf('test.broken', String(row.id))).toHaveLength(4);
      expect(listeners.callsOf('test.recorder', String(row.id))).toHaveLength(1);
    });
  });
});
