import { randomUUID } from 'node:crypto';
import { EndpointSecretsService } from '../../src/endpoints/endpoint-secrets.service';
import { startTestApp, TestApp, TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { SecretLedger } from '../support/leaks';
import { LogCapture } from '../support/log-capture';
import { delivery, post, waitFor } from '../support/panora';

interface Reply {
  status: number;
  // JSON answers, read field by field in assertions.

  body: any;
  text: string;
}

/** Every response body the admin API gave in this file, to check no secret ever leaves. */
const responses: string[] = [];
/** Every app's log lines in this file (the first app started captures them all). */
const logs = new LogCapture();
/** Every signature sent in this file, to check none is logged. */
const signatures: string[] = [];

/**
 * Sends a delivery signed with `secret` to the endpoint's receive route, as Panora would, and
 * returns the status. The type has no listener that calls Panora, so nothing else is disturbed.
 */
async function deliver(service: TestApp, endpointId: string, secret: string): Promise<number> {
  const d = delivery({ secret, type: 'filestorage.folder.pulled', payload: [] });
  signatures.push(d.headers['panora-signature']);
  return (await post(`${service.baseUrl}/webhooks/panora/${endpointId}`, d)).status;
}

async function call(
  service: TestApp,
  method: string,
  path: string,
  body?: unknown,
  key = 'admin-key-012345',
): Promise<Reply> {
  const res = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  responses.push(text);
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

describe('Registration (endpoints admin API against a fake Panora)', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let main: TestApp;
  let keys: EndpointSecretsService;
  const admin = (method: string, path: string, body?: unknown) => call(main, method, path, body);
  const counts = async () =>
    (
      await db.query<{ endpoints: number; secrets: number }>(
        `SELECT (SELECT count(*) FROM webhook_endpoints)::int AS endpoints,
                (SELECT count(*) FROM webhook_endpoint_secrets)::int AS secrets`,
      )
    )[0];
  const secretsOf = async (id: string) =>
    (await keys.getVerificationKeys(id))?.map((key) => key.key.export().toString('utf8')) ?? null;
  /** Registers an endpoint through the API and returns its body and the secret Panora handed out. */
  const register = async (scope: string[], extra: Record<string, unknown> = {}) => {
    const res = await admin('POST', '/admin/endpoints', { scope, ...extra });
    expect(res.status).toBe(201);
    return { endpoint: res.body, secret: fake.webhooks.get(res.body.panoraEndpointId)!.secret };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await FakePanora.start('test-key');
    main = await startTestApp({
      databaseUrl: db.url,
      env: {
        PANORA_BASE_URL: fake.url,
        PANORA_API_KEY: 'test-key',
        ADMIN_API_KEYS: 'admin-key-012345',
        SECRETS_KEY: TEST_SECRETS_KEY,
        PANORA_TIMEOUT_MS: '700',
      },
      override: logs.override,
    });
    keys = main.app.get(EndpointSecretsService);
  });

  afterAll(async () => {
    await main?.close();
    await fake?.stop();
    await db?.drop();
  });

  beforeEach(() => fake.reset());

  describe('authentication', () => {
    it('should refuse every route without the admin key, or with a wrong one', async () => {
      const id = randomUUID();
      const routes: [string, string][] = [
        ['POST', '/admin/endpoints'],
        ['POST', '/admin/endpoints/import'],
        ['POST', '/admin/endpoints/sync'],
        ['GET', '/admin/endpoints'],
        ['GET', `/admin/endpoints/${id}`],
        ['PATCH', `/admin/endpoints/${id}`],
        ['DELETE', `/admin/endpoints/${id}`],
        ['POST', `/admin/endpoints/${id}/rotate`],
      ];
      for (const [method, path] of routes) {
        expect([method, path, (await call(main, method, path, undefined, '')).status]).toEqual([method, path, 401]);
        expect([method, path, (await call(main, method, path, undefined, 'nope')).status]).toEqual([method, path, 401]);
      }
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('POST /admin/endpoints', () => {
    it('should register at Panora with the API key, store the secret sealed, and answer 201 without it', async () => {
      const before = await counts();
      const res = await admin('POST', '/admin/endpoints', {
        scope: ['connection.created', 'crm.contact.created'],
        description: 'main',
      });
      expect(res.status).toBe(201);
      const { id, panoraEndpointId } = res.body;
      const receiveUrl = `http://localhost:${main.env.PORT}/webhooks/panora/${id}`;
      expect(res.body).toMatchObject({
        url: receiveUrl,
        receiveUrl,
        description: 'main',
        scope: ['connection.created', 'crm.contact.created'],
        active: true,
        deletedAt: null,
        warnings: [],
      });

      const [request] = fake.requestsTo('POST', '/webhooks');
      expect(request.headers['x-api-key']).toBe('test-key');
      expect(request.body).toEqual({
        url: receiveUrl,
        description: 'main',
        scope: ['connection.created', 'crm.contact.created'],
      });
      const secret = fake.webhooks.get(panoraEndpointId)!.secret;
      expect(res.text).not.toContain(secret);
      expect(res.body.secrets).toEqual([
        expect.objectContaining({ hint: secret.slice(-4), panoraEndpointId, expiresAt: null }),
      ]);
      expect(res.body.secrets[0]).not.toHaveProperty('secret');

      expect(await counts()).toEqual({ endpoints: before.endpoints + 1, secrets: before.secrets + 1 });
      const [row] = await db.query('SELECT * FROM webhook_endpoint_secrets WHERE endpoint_id = $1', [id]);
      expect(row.sealed_secret).toMatch(/^sb1\./);
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(await secretsOf(id)).toEqual([secret]);
    });

    it('should register a given https URL, and accept http only for localhost and 127.0.0.1', async () => {
      const https = await admin('POST', '/admin/endpoints', {
        scope: ['crm.company.created'],
        url: 'https://hooks.example.com/in',
      });
      expect(https.status).toBe(201);
      expect(https.body.url).toBe('https://hooks.example.com/in');
      expect(fake.webhooks.get(https.body.panoraEndpointId)!.url).toBe('https://hooks.example.com/in');
      const local = await admin('POST', '/admin/endpoints', {
        scope: ['crm.company.pulled'],
        url: 'http://127.0.0.1:8080/hook',
      });
      expect(local.status).toBe(201);
    });

    it('should refuse a public http URL, unknown scopes and bad bodies with 400, before calling Panora', async () => {
      const before = await counts();
      const http = await admin('POST', '/admin/endpoints', {
        scope: ['crm.deal.created'],
        url: 'http://example.com/h',
      });
      expect(http.status).toBe(400);
      expect(JSON.stringify(http.body.message)).toMatch(/url must use https/);

      const unknown = await admin('POST', '/admin/endpoints', {
        scope: ['crm.contact.created', 'crm.bogus.created', 'nope'],
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toEqual(['scope has unknown event types: crm.bogus.created, nope']);

      for (const body of [
        { scope: [] },
        {},
        { scope: 'connection.created' },
        { scope: ['connection.created'], x: 1 },
      ]) {
        expect((await admin('POST', '/admin/endpoints', body)).status).toBe(400);
      }
      expect(fake.requests).toHaveLength(0);
      expect(await counts()).toEqual(before);
    });

    it('should warn when the scope overlaps an active endpoint, in the answer', async () => {
      const first = await register(['ticketing.tag.pulled', 'ticketing.team.pulled']);
      const second = await admin('POST', '/admin/endpoints', { scope: ['ticketing.team.pulled'] });
      expect(second.status).toBe(201);
      expect(second.body.warnings).toHaveLength(1);
      expect(second.body.warnings[0]).toContain('ticketing.team.pulled');
      expect(second.body.warnings[0]).toContain(first.endpoint.id);
      expect(second.body.warnings[0]).toMatch(/only one/);
      const apart = await admin('POST', '/admin/endpoints', { scope: ['ticketing.user.pulled'] });
      expect(apart.body.warnings).toEqual([]);
    });

    it.each([
      [
        '401',
        () => fake.failWith(401),
        /^Panora answered 401 to POST \/webhooks: Unauthorized; check PANORA_API_KEY$/,
        0,
      ],
      [
        '500 without having registered anything',
        () => fake.failWith(500, { route: 'POST /webhooks' }),
        /^Panora answered 500 to POST \/webhooks: Internal server error; Panora holds no new endpoint for \S+ \(checked with GET \/webhooks\): nothing was registered$/,
        1,
      ],
      [
        '500, and then cannot list its endpoints',
        () => fake.failWith(500, { route: 'POST /webhooks' }).failWith(500, { route: 'GET /webhooks', times: 3 }),
        /^Panora answered 500 to POST \/webhooks: .*Panora may have registered \S+ anyway, and listing its endpoints to check failed too \(Panora answered 500 to GET \/webhooks.*\(after 3 attempts\)\): look for it in Panora's dashboard/,
        3,
      ],
    ])(
      'should answer 502 saying why and leave nothing on either side when Panora answers %s',
      async (_name, arrange, message, lists) => {
        const before = await counts();
        arrange();
        const res = await admin('POST', '/admin/endpoints', { scope: ['filestorage.folder.pulled'] });
        expect(res.status).toBe(502);
        expect(res.body).toMatchObject({ statusCode: 502, code: 'PANORA_ERROR' });
        expect(res.body.message).toMatch(message);
        expect(res.text).not.toContain('test-key');
        // Sent once: a POST that may have reached Panora is never resent.
        expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(1);
        expect(fake.requestsTo('GET', '/webhooks')).toHaveLength(lists);
        expect(await counts()).toEqual(before);
        const url = (fake.requestsTo('POST', '/webhooks')[0].body as { url: string }).url;
        expect(fake.findByUrl(url)).toEqual([]);
      },
    );

    it.each([
      // A scope of its own each, so no overlap warning joins the one checked.
      [
        'registers it, then answers 500',
        'ecommerce.order.created',
        () => fake.actThenFail(500, { route: 'POST /webhooks' }),
      ],
      [
        'registers it, then answers 502',
        'ecommerce.product.created',
        () => fake.actThenFail(502, { route: 'POST /webhooks' }, 'Bad gateway'),
      ],
      [
        'registers it, then hangs past PANORA_TIMEOUT_MS',
        'crm.engagement.pulled',
        () => fake.actThenHang({ route: 'POST /webhooks' }),
      ],
      [
        'registers it, then answers a malformed 201',
        'crm.task.pulled',
        () => fake.malformed({ route: 'POST /webhooks' }),
      ],
    ])(
      'should adopt the one endpoint Panora made when it %s, and verify deliveries with its secret',
      async (_name, scope, arrange) => {
        arrange();
        const res = await admin('POST', '/admin/endpoints', { scope: [scope] });
        expect(res.status).toBe(201);
        expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(1);
        const atPanora = fake.findByUrl(res.body.url);
        expect(atPanora).toHaveLength(1);
        expect(res.body).toMatchObject({ panoraEndpointId: atPanora[0].id_webhook_endpoint, active: true });
        expect(res.body.warnings).toEqual([expect.stringMatching(/but Panora had registered the endpoint/)]);
        expect(res.text).not.toContain(atPanora[0].secret);
        expect(await deliver(main, res.body.id, atPanora[0].secret)).toBe(200);
        expect(await deliver(main, res.body.id, randomUUID())).toBe(401);
      },
    );

    it('should keep one and delete the rest when Panora made several endpoints for one failed request', async () => {
      fake.actThenFail(500, { route: 'POST /webhooks', copies: 3 });
      const res = await admin('POST', '/admin/endpoints', { scope: ['filestorage.drive.pulled'] });
      expect(res.status).toBe(201);
      expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(1);
      const left = fake.findByUrl(res.body.url);
      expect(left.map((row) => row.id_webhook_endpoint)).toEqual([res.body.panoraEndpointId]);
      expect(fake.requestsTo('DELETE', '/webhooks/')).toHaveLength(2);
      expect(res.body.warnings[0]).toMatch(/2 duplicate\(s\) removed/);
      expect(await deliver(main, res.body.id, left[0].secret)).toBe(200);
    });

    it('should only report, never adopt or delete, what Panora holds at a URL the admin gave', async () => {
      const before = await counts();
      fake.actThenFail(500, { route: 'POST /webhooks' });
      const res = await admin('POST', '/admin/endpoints', {
        scope: ['ticketing.collection.pulled'],
        url: 'https://shared.example.com/in',
      });
      expect(res.status).toBe(502);
      const [made] = fake.findByUrl('https://shared.example.com/in');
      expect(res.body.message).toContain(
        `Panora holds endpoint(s) ${made.id_webhook_endpoint} at https://shared.example.com/in`,
      );
      expect(res.body.message).toMatch(/import the one to keep/);
      expect(fake.requestsTo('DELETE', '/webhooks/')).toHaveLength(0);
      expect(await counts()).toEqual(before);
      fake.webhooks.delete(made.id_webhook_endpoint);
    });
  });

  describe('POST /admin/endpoints/import', () => {
    it('should adopt a dashboard endpoint without calling Panora, and give the URL to paste', async () => {
      const made = fake.addWebhook({ url: 'https://x.example.com/placeholder', scope: ['crm.engagement.created'] });
      const res = await admin('POST', '/admin/endpoints/import', {
        id_webhook_endpoint: made.id_webhook_endpoint,
        scope: ['crm.engagement.created'],
        secret: made.secret,
      });
      expect(res.status).toBe(201);
      const receiveUrl = `http://localhost:${main.env.PORT}/webhooks/panora/${res.body.id}`;
      expect(res.body).toMatchObject({ receiveUrl, url: receiveUrl, panoraEndpointId: made.id_webhook_endpoint });
      expect(res.text).not.toContain(made.secret);
      expect(fake.requests).toHaveLength(0);
      expect(await secretsOf(res.body.id)).toEqual([made.secret]);

      // The same one again: nothing to do (test/endpoints/registration-changes.integration-spec.ts has a new secret).
      const again = await admin('POST', '/admin/endpoints/import', {
        id_webhook_endpoint: made.id_webhook_endpoint,
        secret: made.secret,
      });
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({ id: res.body.id, outcome: 'unchanged', scope: ['crm.engagement.created'] });
      expect(await secretsOf(res.body.id)).toEqual([made.secret]);
    });

    it('should refuse an import without a secret or with unknown scopes', async () => {
      const before = await counts();
      expect((await admin('POST', '/admin/endpoints/import', { id_webhook_endpoint: 'w' })).status).toBe(400);
      expect((await admin('POST', '/admin/endpoints/import', { secret: randomUUID(), scope: ['x.y'] })).status).toBe(
        400,
      );
      expect(await counts()).toEqual(before);
    });
  });

  describe('GET /admin/endpoints', () => {
    it('should list and show endpoints with secret hints only, and 404 unknown or malformed ids', async () => {
      const { endpoint, secret } = await register(['crm.stage.pulled']);
      const list = await admin('GET', '/admin/endpoints');
      expect(list.status).toBe(200);
      expect(list.body.map((e: { id: string }) => e.id)).toContain(endpoint.id);
      expect(list.text).not.toContain(secret);
      const one = await admin('GET', `/admin/endpoints/${endpoint.id}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: endpoint.id, secrets: [{ hint: secret.slice(-4) }] });
      expect(one.text).not.toContain(secret);

      for (const id of [randomUUID(), 'not-a-uuid', '1']) {
        const res = await admin('GET', `/admin/endpoints/${id}`);
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: 'ENDPOINT_NOT_FOUND' });
      }
    });
  });

  describe('PATCH /admin/endpoints/:id', () => {
    it('should disable at Panora, then here, and stop verifying; and enable again', async () => {
      const { endpoint, secret } = await register(['ticketing.comment.pulled']);
      expect(await secretsOf(endpoint.id)).toEqual([secret]);

      const off = await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: false });
      expect(off.status).toBe(200);
      expect(off.body.active).toBe(false);
      expect(fake.requestsTo('PUT', `/webhooks/${endpoint.panoraEndpointId}`)[0].body).toEqual({ active: false });
      expect(fake.webhooks.get(endpoint.panoraEndpointId)!.active).toBe(false);
      expect((await db.query('SELECT active FROM webhook_endpoints WHERE id = $1', [endpoint.id]))[0].active).toBe(
        false,
      );
      expect(await secretsOf(endpoint.id)).toBeNull();

      const on = await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: true });
      expect(on.status).toBe(200);
      expect(fake.webhooks.get(endpoint.panoraEndpointId)!.active).toBe(true);
      expect(await secretsOf(endpoint.id)).toEqual([secret]);
    });

    it("should accept Panora's 201 without a body", async () => {
      const { endpoint } = await register(['ticketing.account.pulled']);
      fake.answerWith(201, '', { route: 'PUT /webhooks/' });
      const res = await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: false });
      expect(res.status).toBe(200);
      expect(res.body.active).toBe(false);
    });

    it('should change nothing here when Panora fails, and validate the body', async () => {
      const { endpoint } = await register(['ticketing.contact.pulled']);
      fake.failWith(500, { route: 'PUT /webhooks/', times: 3 });
      const res = await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: false });
      expect(res.status).toBe(502);
      expect(res.body.message).toMatch(/Panora answered 500 to PUT \/webhooks\/.* \(after 3 attempts\)/);
      expect(fake.requestsTo('PUT', '/webhooks/')).toHaveLength(3);
      expect((await db.query('SELECT active FROM webhook_endpoints WHERE id = $1', [endpoint.id]))[0].active).toBe(
        true,
      );

      expect((await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: 'no' })).status).toBe(400);
      expect((await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: false, url: 'x' })).status).toBe(400);
      expect((await admin('PATCH', `/admin/endpoints/${randomUUID()}`, { active: false })).status).toBe(404);
    });
  });

  describe('DELETE /admin/endpoints/:id', () => {
    it('should delete at Panora, then soft-delete here, erase the secrets and keep the events', async () => {
      const { endpoint } = await register(['filestorage.group.pulled']);
      await db.query(
        `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload)
         VALUES ($1, $2, 'connection.created', 'connection.created', '{}')`,
        [endpoint.id, randomUUID()],
      );
      const res = await admin('DELETE', `/admin/endpoints/${endpoint.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: endpoint.id, active: false, secrets: [] });
      expect(res.body.deletedAt).not.toBeNull();
      expect(fake.webhooks.has(endpoint.panoraEndpointId)).toBe(false);

      const [row] = await db.query('SELECT deleted_at FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
      expect(row.deleted_at).toBeInstanceOf(Date);
      expect(
        await db.query('SELECT 1 FROM webhook_endpoint_secrets WHERE endpoint_id = $1', [endpoint.id]),
      ).toHaveLength(0);
      expect(await db.query('SELECT 1 FROM webhook_events WHERE endpoint_id = $1', [endpoint.id])).toHaveLength(1);
      expect(await secretsOf(endpoint.id)).toBeNull();
      expect((await admin('GET', `/admin/endpoints/${endpoint.id}`)).status).toBe(404);
      expect((await admin('DELETE', `/admin/endpoints/${endpoint.id}`)).status).toBe(404);
    });

    it('should keep the endpoint when Panora fails, and treat one Panora already forgot as deleted', async () => {
      const { endpoint } = await register(['filestorage.permission.pulled']);
      fake.failWith(500, { route: 'DELETE /webhooks/', times: 3 });
      const failed = await admin('DELETE', `/admin/endpoints/${endpoint.id}`);
      expect(failed.status).toBe(502);
      expect(failed.body.message).toMatch(/Panora answered 500 to DELETE/);
      const [row] = await db.query('SELECT deleted_at FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
      expect(row.deleted_at).toBeNull();
      expect(
        await db.query('SELECT 1 FROM webhook_endpoint_secrets WHERE endpoint_id = $1', [endpoint.id]),
      ).toHaveLength(1);

      fake.webhooks.delete(endpoint.panoraEndpointId);
      expect((await admin('DELETE', `/admin/endpoints/${endpoint.id}`)).status).toBe(200);
    });
  });

  describe('POST /admin/endpoints/:id/rotate', () => {
    it('should register a replacement, keep both secrets during the grace period, and disable the old one', async () => {
      const { endpoint, secret: oldSecret } = await register(['filestorage.file.created'], { description: 'rot' });
      expect(await secretsOf(endpoint.id)).toEqual([oldSecret]);
      const started = Date.now();
      const res = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(res.status).toBe(200);
      const { rotation } = res.body;
      expect(rotation).toMatchObject({
        previousPanoraEndpointId: endpoint.panoraEndpointId,
        previousDisabledAtPanora: true,
      });
      expect(rotation.newPanoraEndpointId).not.toBe(endpoint.panoraEndpointId);
      expect(res.body.panoraEndpointId).toBe(rotation.newPanoraEndpointId);
      const replacement = fake.webhooks.get(rotation.newPanoraEndpointId)!;
      expect(replacement).toMatchObject({ url: endpoint.url, scope: endpoint.scope, endpoint_description: 'rot' });
      expect(fake.webhooks.get(endpoint.panoraEndpointId)!.active).toBe(false);
      expect(res.text).not.toContain(oldSecret);
      expect(res.text).not.toContain(replacement.secret);

      const verifying = await keys.getVerificationKeys(endpoint.id);
      expect(verifying!.map((k) => k.key.export().toString('utf8')).sort()).toEqual(
        [oldSecret, replacement.secret].sort(),
      );
      const old = verifying!.find((k) => k.expiresAt !== null)!;
      const grace = old.expiresAt!.getTime() - started;
      expect(grace).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
      expect(grace).toBeLessThan(24 * 3600 * 1000 + 60_000);
      expect(new Date(rotation.previousSecretExpiresAt).getTime()).toBe(old.expiresAt!.getTime());
      const [stored] = await db.query('SELECT panora_endpoint_id FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
      expect(stored.panora_endpoint_id).toBe(rotation.newPanoraEndpointId);
    });

    it('should keep the rotation and report it when Panora refuses to disable the old endpoint', async () => {
      const { endpoint, secret: oldSecret } = await register(['filestorage.sharedlink.pulled']);
      fake.failWith(500, { route: 'PUT /webhooks/', times: 3 });
      const res = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(res.status).toBe(200);
      expect(res.body.rotation.previousDisabledAtPanora).toBe(false);
      expect(res.body.rotation.error).toMatch(/Panora answered 500 to PUT/);
      expect(res.body.warnings[0]).toContain(endpoint.panoraEndpointId);
      const newSecret = fake.webhooks.get(res.body.rotation.newPanoraEndpointId)!.secret;
      expect((await secretsOf(endpoint.id))!.sort()).toEqual([oldSecret, newSecret].sort());
    });

    it('should change nothing when Panora refuses the replacement, and refuse a disabled endpoint', async () => {
      const { endpoint, secret } = await register(['filestorage.user.pulled']);
      const before = await counts();
      fake.failWith(401, { route: 'POST /webhooks' });
      const res = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(res.status).toBe(502);
      expect(res.body.message).toMatch(/Panora answered 401 to POST \/webhooks/);
      expect(await counts()).toEqual(before);
      expect(await secretsOf(endpoint.id)).toEqual([secret]);
      expect((await admin('GET', `/admin/endpoints/${endpoint.id}`)).body.panoraEndpointId).toBe(
        endpoint.panoraEndpointId,
      );

      await admin('PATCH', `/admin/endpoints/${endpoint.id}`, { active: false });
      const disabled = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(disabled.status).toBe(409);
    });

    it('should change nothing, here or at Panora, when Panora answers 500 without making the replacement', async () => {
      const { endpoint, secret } = await register(['crm.deal.pulled']);
      const before = await counts();
      fake.reset();
      fake.failWith(500, { route: 'POST /webhooks' });
      const res = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(res.status).toBe(502);
      expect(res.body.message).toMatch(/^Panora answered 500 to POST \/webhooks.*nothing was registered$/);
      expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(1);
      expect(fake.findByUrl(endpoint.url).map((row) => [row.id_webhook_endpoint, row.active])).toEqual([
        [endpoint.panoraEndpointId, true],
      ]);
      expect(await counts()).toEqual(before);
      expect(await deliver(main, endpoint.id, secret)).toBe(200);
    });

    it.each([
      ['answers 500 after making the replacement', () => fake.actThenFail(500, { route: 'POST /webhooks' })],
      ['hangs past PANORA_TIMEOUT_MS after making it', () => fake.actThenHang({ route: 'POST /webhooks' })],
      ['made it twice and answered 503', () => fake.actThenFail(503, { route: 'POST /webhooks', copies: 2 })],
    ])('should finish the rotation with the one replacement Panora holds when it %s', async (_name, arrange) => {
      const { endpoint, secret: oldSecret } = await register(['crm.note.pulled']);
      fake.reset();
      arrange();
      const res = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(res.status).toBe(200);
      expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(1);
      const active = fake.findByUrl(endpoint.url).filter((row) => row.active);
      expect(active.map((row) => row.id_webhook_endpoint)).toEqual([res.body.rotation.newPanoraEndpointId]);
      expect(fake.webhooks.get(endpoint.panoraEndpointId)!.active).toBe(false);
      expect(res.body.rotation.previousDisabledAtPanora).toBe(true);
      expect(res.body.warnings[0]).toMatch(/but Panora had registered the endpoint/);
      expect(res.text).not.toContain(active[0].secret);
      expect(await deliver(main, endpoint.id, active[0].secret)).toBe(200);
      // The old secret still verifies during the grace period.
      expect(await deliver(main, endpoint.id, oldSecret)).toBe(200);
    });
  });

  describe('POST /admin/endpoints/sync', () => {
    it('should report one-sided endpoints and take active and scope from Panora', async () => {
      const changed = await register(['ticketing.ticket.created']);
      const gone = await register(['ticketing.attachment.created']);
      const remote = fake.webhooks.get(changed.endpoint.panoraEndpointId)!;
      remote.active = false;
      remote.scope = ['ticketing.ticket.created', 'ticketing.ticket.pulled'];
      fake.webhooks.delete(gone.endpoint.panoraEndpointId);
      const dashboard = fake.addWebhook({ url: 'https://elsewhere.example.com/h', scope: ['crm.note.created'] });

      const res = await admin('POST', '/admin/endpoints/sync');
      expect(res.status).toBe(200);
      expect(fake.requestsTo('GET', '/webhooks')).toHaveLength(1);
      expect(res.body.updated).toContainEqual({
        id: changed.endpoint.id,
        panoraEndpointId: changed.endpoint.panoraEndpointId,
        active: false,
        scope: ['ticketing.ticket.created', 'ticketing.ticket.pulled'],
      });
      expect(res.body.onlyLocal).toContainEqual({
        id: gone.endpoint.id,
        panoraEndpointId: gone.endpoint.panoraEndpointId,
        url: gone.endpoint.url,
      });
      expect(res.body.onlyAtPanora).toContainEqual({
        panoraEndpointId: dashboard.id_webhook_endpoint,
        url: dashboard.url,
        scope: ['crm.note.created'],
        active: true,
        description: null,
      });
      // The endpoints replaced by rotations above are known, not "only at Panora".
      const known = (
        await db.query<{ panora_endpoint_id: string }>(
          'SELECT panora_endpoint_id FROM webhook_endpoint_secrets WHERE panora_endpoint_id IS NOT NULL',
        )
      ).map((row) => row.panora_endpoint_id);
      for (const row of res.body.onlyAtPanora) expect(known).not.toContain(row.panoraEndpointId);
      expect(res.text).not.toContain(dashboard.secret);
      expect(res.text).not.toContain(remote.secret);

      const [row] = await db.query('SELECT active, scope FROM webhook_endpoints WHERE id = $1', [changed.endpoint.id]);
      expect(row).toEqual({ active: false, scope: ['ticketing.ticket.created', 'ticketing.ticket.pulled'] });
      expect(await secretsOf(changed.endpoint.id)).toBeNull();
    });

    it('should answer 502 when Panora cannot list', async () => {
      fake.failWith(401);
      const res = await admin('POST', '/admin/endpoints/sync');
      expect(res.status).toBe(502);
      expect(res.body.message).toMatch(/Panora answered 401 to GET \/webhooks/);
    });
  });

  describe('with a short grace period', () => {
    it('should accept deliveries signed with either secret during the grace period and refuse the old one after it', async () => {
      const short = await startTestApp({
        databaseUrl: db.url,
        env: {
          PANORA_BASE_URL: fake.url,
          PANORA_API_KEY: 'test-key',
          ADMIN_API_KEYS: 'admin-key-012345',
          SECRETS_KEY: TEST_SECRETS_KEY,
          SECRET_ROTATION_GRACE: '3',
        },
      });
      try {
        const created = await call(short, 'POST', '/admin/endpoints', { scope: ['crm.user.pulled'] });
        expect(created.status).toBe(201);
        const id = created.body.id;
        const oldSecret = fake.webhooks.get(created.body.panoraEndpointId)!.secret;
        expect(await deliver(short, id, oldSecret)).toBe(200);
        const rotated = await call(short, 'POST', `/admin/endpoints/${id}/rotate`);
        expect(rotated.status).toBe(200);
        const newSecret = fake.webhooks.get(rotated.body.rotation.newPanoraEndpointId)!.secret;
        expect(await deliver(short, id, newSecret)).toBe(200);
        expect(await deliver(short, id, oldSecret)).toBe(200);

        // Once the grace period is over, the old secret is refused (polled, not slept on).
        await waitFor(
          async () => (await deliver(short, id, oldSecret)) === 401,
          30_000,
          'the old secret to be refused',
        );
        expect(new Date(rotated.body.rotation.previousSecretExpiresAt).getTime()).toBeLessThanOrEqual(Date.now());
        expect(await deliver(short, id, newSecret)).toBe(200);
      } finally {
        await short.close();
      }
    });
  });

  describe('without PANORA_API_KEY', () => {
    it('should start, answer 503 "set PANORA_API_KEY" when Panora is needed, and refuse a public http PUBLIC_BASE_URL', async () => {
      const unconfigured = await startTestApp({
        databaseUrl: db.url,
        env: {
          PANORA_BASE_URL: fake.url,
          ADMIN_API_KEYS: 'admin-key-012345',
          SECRETS_KEY: TEST_SECRETS_KEY,
          PUBLIC_BASE_URL: 'http://hooks.example.com',
        },
      });
      try {
        const before = await counts();
        const res = await call(unconfigured, 'POST', '/admin/endpoints', {
          scope: ['crm.task.created'],
          url: 'https://hooks.example.com/x',
        });
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ code: 'PANORA_NOT_CONFIGURED' });
        expect(res.body.message).toMatch(/set PANORA_API_KEY/);
        expect((await call(unconfigured, 'POST', '/admin/endpoints/sync')).status).toBe(503);
        expect(await counts()).toEqual(before);
        expect(fake.requests).toHaveLength(0);

        const noUrl = await call(unconfigured, 'POST', '/admin/endpoints', { scope: ['crm.task.created'] });
        expect(noUrl.status).toBe(400);
        expect(noUrl.body.message).toMatch(/^PUBLIC_BASE_URL must use https/);
      } finally {
        await unconfigured.close();
      }
    });
  });

  describe('secrets at rest and in answers', () => {
    it('should never store a secret in clear', async () => {
      expect(fake.issuedSecrets.length).toBeGreaterThan(10);
      const rows = JSON.stringify([
        ...(await db.query('SELECT * FROM webhook_endpoint_secrets')),
        ...(await db.query('SELECT * FROM webhook_endpoints')),
      ]);
      expect(rows).toContain('sb1.');
      for (const secret of fake.issuedSecrets) expect(rows).not.toContain(secret);
    });

    it('should never return a secret or the API key in any answer', () => {
      expect(responses.length).toBeGreaterThan(50);
      const all = responses.join('\n');
      for (const secret of fake.issuedSecrets) expect(all).not.toContain(secret);
      expect(all).not.toContain('test-key');
    });

    it('should never write a secret, a signature or a key to the log', () => {
      const text = logs.text();
      // The capture holds what these suites did: registrations, rotations, syncs, settled failures.
      for (const line of [
        'Registered endpoint',
        'Rotated the secret',
        'Synced with Panora',
        'had registered the endpoint',
      ]) {
        expect(text).toContain(line);
      }
      const ledger = new SecretLedger()
        .add('endpoint secret', ...fake.issuedSecrets)
        .add('signature', ...signatures)
        .add('admin key', 'admin-key-012345')
        .add('secrets key', TEST_SECRETS_KEY);
      expect(ledger.count('endpoint secret')).toBeGreaterThan(10);
      expect(ledger.count('signature')).toBeGreaterThan(10);
      expect(ledger.find(text, 'service log')).toEqual([]);
      expect(text).not.toContain('test-key');
    });
  });
});
