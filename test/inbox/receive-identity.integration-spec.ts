import { randomBytes, randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { rawRequest } from '../support/raw-http';

const ADMIN_KEY = randomBytes(24).toString('hex');

/**
 * What makes a delivery the same delivery: its (endpoint, id_event), and the text Panora signed.
 * A captured delivery re-sent under a fresh id_event is a replay, answered `duplicate` and never
 * applied; a stored event is never answered `duplicate`; two different ids never share a row.
 */
describe('Identity of a delivery (replays, canonical ids)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let port: number;

  const url = (id = endpoint.id) => `${service.baseUrl}/webhooks/panora/${id}`;
  const rows = async () =>
    (
      await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events WHERE endpoint_id = $1', [
        endpoint.id,
      ])
    )[0].n;
  const admin = (method: string, path: string, init: RequestInit = {}) =>
    fetch(`${service.baseUrl}${path}`, {
      ...init,
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers as Record<string, string>) },
    });
  const processed = () =>
    waitFor(
      async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_events WHERE status NOT IN ('processed', 'dead')`,
          )
        )[0].n === 0,
      20_000,
      'every event to be processed',
    );
  const storedToken = async (idConnection: string) => {
    const res = await admin('GET', `/admin/connections/${idConnection}/token`);
    return ((await res.json()) as { connectionToken?: string }).connectionToken;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({ databaseUrl: db.url, env: { ADMIN_API_KEYS: ADMIN_KEY, DISPATCH_POLL_MS: '200' } });
    port = Number(new URL(service.baseUrl).port);
    endpoint = await insertEndpoint(db);
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  describe('replay protection (Panora signs no timestamp and no id_event)', () => {
    it('should answer a captured delivery re-sent under a fresh id_event as a duplicate, and never apply it', async () => {
      const idConnection = randomUUID();
      const a = connectionPayload({ id_connection: idConnection });
      const b = connectionPayload({ id_connection: idConnection });
      const captured = delivery({ secret: endpoint.secret, type: 'connection.created', payload: a });
      expect((await post(url(), captured)).json).toEqual({ received: true });
      expect(
        (await post(url(), delivery({ secret: endpoint.secret, type: 'connection.created', payload: b }))).json,
      ).toEqual({
        received: true,
      });
      await processed();
      expect(await storedToken(idConnection)).toBe(b.connection_token);
      const before = await rows();

      // The attacker's copy: the same signed data and signature, a new id_event.
      const body = JSON.parse(captured.body) as Record<string, unknown>;
      const replay = { headers: captured.headers, body: JSON.stringify({ ...body, id_event: randomUUID() }) };
      const answer = await post(url(), replay);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ received: true, duplicate: true });
      await processed();
      expect(await rows()).toBe(before);
      expect(await storedToken(idConnection)).toBe(b.connection_token);
    });

    it('should recognise the replay whether data travels as a string or as an object', async () => {
      const payload = connectionPayload();
      const first = delivery({ secret: endpoint.secret, type: 'connection.created', payload, asObject: true });
      expect((await post(url(), first)).json).toEqual({ received: true });
      const again = delivery({ secret: endpoint.secret, type: 'connection.created', payload, asObject: true });
      expect((await post(url(), again)).json).toEqual({ received: true, duplicate: true });
    });

    it('should still store a delivery whose data differs in one character', async () => {
      const payload = connectionPayload();
      expect(
        (await post(url(), delivery({ secret: endpoint.secret, type: 'connection.created', payload }))).json,
      ).toEqual({
        received: true,
      });
      const changed = { ...payload, status: 'valid ' };
      expect(
        (await post(url(), delivery({ secret: endpoint.secret, type: 'connection.created', payload: changed }))).json,
      ).toEqual({ received: true });
    });
  });

  describe('canonical identity', () => {
    it('should store a delivery sent to the upper-case form of the endpoint id, answer it stored, and match it afterwards', async () => {
      const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
      const first = await post(url(endpoint.id.toUpperCase()), d);
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ received: true });
      const [row] = await db.query<{ endpoint_id: string }>(
        'SELECT endpoint_id FROM webhook_events WHERE id_event = $1',
        [d.idEvent],
      );
      expect(row.endpoint_id).toBe(endpoint.id);
      expect((await post(url(), d)).json).toEqual({ received: true, duplicate: true });
    });

    it.each([
      ['a lone high surrogate', '\ud800'],
      ['a lone low surrogate', '\udc00'],
      ['a NUL character', '\u0000'],
    ])('should refuse an id_event holding %s with a 400 that says what to fix, and store nothing', async (_, bad) => {
      const before = await rows();
      const answers = [];
      // Two ids that PostgreSQL would store as one: both refused, neither collapses into the other.
      for (const idEvent of [`evt-${bad}-1`, `evt-${bad.codePointAt(0)! + 1}-1`.replace(/^evt-\d+/, `evt-${bad}`)]) {
        const d = delivery({
          secret: endpoint.secret,
          type: 'connection.created',
          payload: connectionPayload(),
          idEvent,
        });
        answers.push(await post(url(), d));
      }
      for (const answer of answers) {
        expect(answer.status).toBe(400);
        expect(answer.json.message).toEqual([expect.stringMatching(/^id_event must be valid Unicode text/)]);
      }
      expect(await rows()).toBe(before);
    });

    it('should keep two ids that differ only in their lone surrogate apart', async () => {
      const answers = [];
      for (const idEvent of ['evt-\ud800', 'evt-\ud801']) {
        const d = delivery({
          secret: endpoint.secret,
          type: 'connection.created',
          payload: connectionPayload(),
          idEvent,
        });
        answers.push((await post(url(), d)).status);
      }
      // Refused rather than stored as one row under 'evt-\ufffd' (the second event lost).
      expect(answers).toEqual([400, 400]);
      const [{ n }] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE id_event LIKE 'evt-%'`,
      );
      expect(n).toBe(0);
    });
  });

  describe('the HTTP edge', () => {
    it('should accept a bodiless admin call sent with Content-Type: application/json and an empty body (as curl -H sends it)', async () => {
      const target = await insertEndpoint(db);
      const res = await admin('DELETE', `/admin/endpoints/${target.id}`, {
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      const [row] = await db.query<{ deleted_at: Date | null }>(
        'SELECT deleted_at FROM webhook_endpoints WHERE id = $1',
        [target.id],
      );
      expect(row.deleted_at).not.toBeNull();
    });

    it.each(['/webhooks/panora/%zz', '/admin/events/%E0%A4%A', '/%c0%af'])(
      'should answer the undecodable URL %s with its own 400, echoing no part of the request',
      async (path) => {
        const res = await rawRequest({ port, method: 'GET', path });
        expect(res.status).toBe(400);
        expect(res.json).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          code: 'BAD_URL',
          message: expect.stringMatching(/percent-encod/),
        });
        for (const part of path.split('/').filter(Boolean)) expect(res.text).not.toContain(part);
      },
    );

    it('should answer an unknown route without echoing its path', async () => {
      const path = `/no/such/route-${randomUUID()}`;
      const res = await rawRequest({ port, method: 'GET', path });
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('route-');
      expect(res.json).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: expect.stringMatching(/No such route/),
      });
    });
  });
});
