import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp, TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePanora, type Gate } from '../support/fake-panora';
import { SecretLedger } from '../support/leaks';
import { LogCapture } from '../support/log-capture';
import { delivery, post, waitFor } from '../support/panora';

const ADMIN_KEY = 'admin-key-registration-changes';
/** Long enough that a slow machine still delivers within it, short enough to wait for its end. */
const GRACE_SECONDS = 6;

interface Reply {
  status: number;
  // JSON answers, read field by field in assertions.

  body: any;
  text: string;
}

/**
 * Changing an endpoint's registration: importing a dashboard endpoint again (its secret changed in
 * Panora's dashboard), and changes of one endpoint that overlap (two rotations at once, one of them
 * failing ambiguously at Panora). Two instances share the database, as replicas would.
 */
describe('Registration changes (import again, concurrent changes)', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let main: TestApp;
  let other: TestApp;
  const logs = new LogCapture();
  const responses: string[] = [];
  const signatures: string[] = [];
  /** Answers held at the fake Panora: all let go after each test, so a failing one leaves nothing hanging. */
  const gates: Gate[] = [];
  const hold = () => {
    const gate = fake.holdAnswer({ route: 'POST /webhooks' });
    gates.push(gate);
    return gate;
  };

  const call = async (service: TestApp, method: string, path: string, body?: unknown): Promise<Reply> => {
    const res = await fetch(`${service.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const admin = (method: string, path: string, body?: unknown) => call(main, method, path, body);

  /** A delivery signed with `secret`, as Panora sends it, to the endpoint's receive route: the status. */
  const deliver = async (service: TestApp, endpointId: string, secret: string): Promise<number> => {
    const d = delivery({ secret, type: 'filestorage.folder.pulled', payload: [] });
    signatures.push(d.headers['panora-signature']);
    return (await post(`${service.baseUrl}/webhooks/panora/${endpointId}`, d)).status;
  };

  const secretRows = (endpointId: string) =>
    db.query<{ hint: string; panora_endpoint_id: string | null; expires_at: Date | null }>(
      'SELECT hint, panora_endpoint_id, expires_at FROM webhook_endpoint_secrets WHERE endpoint_id = $1 ORDER BY created_at',
      [endpointId],
    );

  /** Registers an endpoint through the API (default URL: it carries the endpoint's id). */
  const register = async (scope: string[]) => {
    const res = await admin('POST', '/admin/endpoints', { scope });
    expect(res.status).toBe(201);
    return res.body as { id: string; url: string; panoraEndpointId: string };
  };

  /** A secret changed in Panora's dashboard: the fake now signs with a new one. */
  const changeSecretInDashboard = (panoraEndpointId: string): string => {
    const secret = randomUUID();
    fake.issuedSecrets.push(secret);
    fake.webhooks.get(panoraEndpointId)!.secret = secret;
    return secret;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await FakePanora.start('test-key');
    const env = {
      PANORA_BASE_URL: fake.url,
      PANORA_API_KEY: 'test-key',
      ADMIN_API_KEYS: ADMIN_KEY,
      SECRETS_KEY: TEST_SECRETS_KEY,
      SECRET_ROTATION_GRACE: String(GRACE_SECONDS),
      PANORA_TIMEOUT_MS: '700',
    };
    main = await startTestApp({ databaseUrl: db.url, env, override: logs.override });
    other = await startTestApp({ databaseUrl: db.url, env });
  });

  afterAll(async () => {
    await other?.close();
    await main?.close();
    await fake?.stop();
    await db?.drop();
  });

  beforeEach(() => fake.reset());
  afterEach(() => {
    for (const gate of gates.splice(0)) gate.release();
  });

  describe('POST /admin/endpoints/import again with the same Panora endpoint id', () => {
    it('should add the new secret to the endpoint, verify both on every instance during the grace period, and refuse the old one after it', async () => {
      const made = fake.addWebhook({ url: 'https://x.example.com/placeholder', scope: ['crm.note.pulled'] });
      const first = await admin('POST', '/admin/endpoints/import', {
        id_webhook_endpoint: made.id_webhook_endpoint,
        scope: ['crm.note.pulled'],
        secret: made.secret,
      });
      expect(first.status).toBe(201);
      const { id, receiveUrl } = first.body;
      const oldSecret = made.secret;
      // Both instances have the old secret cached.
      expect(await deliver(main, id, oldSecret)).toBe(200);
      expect(await deliver(other, id, oldSecret)).toBe(200);

      const newSecret = changeSecretInDashboard(made.id_webhook_endpoint);
      const again = await admin('POST', '/admin/endpoints/import', {
        id_webhook_endpoint: made.id_webhook_endpoint,
        secret: newSecret,
      });
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({
        id,
        receiveUrl,
        panoraEndpointId: made.id_webhook_endpoint,
        scope: ['crm.note.pulled'],
        outcome: 'secret_replaced',
        warnings: [],
      });
      expect(again.body.secrets).toEqual([
        expect.objectContaining({ hint: oldSecret.slice(-4), expiresAt: again.body.previousSecretExpiresAt }),
        expect.objectContaining({ hint: newSecret.slice(-4), expiresAt: null }),
      ]);
      expect(again.text).not.toContain(newSecret);
      expect(again.text).not.toContain(oldSecret);
      expect(fake.requests).toHaveLength(0);

      // During the grace period both verify, on this instance and (told by a notification, well
      // before the cache's 60 s TTL) on the other one.
      expect(await deliver(main, id, oldSecret)).toBe(200);
      expect(await deliver(main, id, newSecret)).toBe(200);
      expect(await deliver(other, id, oldSecret)).toBe(200);
      await waitFor(async () => (await deliver(other, id, newSecret)) === 200, 5_000, 'the other instance to verify');

      await waitFor(async () => (await deliver(main, id, oldSecret)) === 401, 30_000, 'the old secret to be refused');
      expect(new Date(again.body.previousSecretExpiresAt).getTime()).toBeLessThanOrEqual(Date.now());
      expect(await deliver(main, id, newSecret)).toBe(200);
      expect(await deliver(other, id, newSecret)).toBe(200);
      expect(
        await db.query('SELECT id FROM webhook_endpoints WHERE panora_endpoint_id = $1', [made.id_webhook_endpoint]),
      ).toEqual([{ id }]);
    });

    it('should change nothing when imported again with the current secret, and take a new scope and url given', async () => {
      const made = fake.addWebhook({ url: 'https://y.example.com/placeholder', scope: ['crm.stage.pulled'] });
      const body = { id_webhook_endpoint: made.id_webhook_endpoint, secret: made.secret, scope: ['crm.stage.pulled'] };
      const first = await admin('POST', '/admin/endpoints/import', body);
      expect(first.status).toBe(201);
      const rows = await secretRows(first.body.id);

      const same = await admin('POST', '/admin/endpoints/import', body);
      expect(same.status).toBe(201);
      expect(same.body).toMatchObject({ id: first.body.id, outcome: 'unchanged', previousSecretExpiresAt: null });
      expect(await secretRows(first.body.id)).toEqual(rows);

      // Scope and URL edited in Panora's dashboard: the endpoint keeps its id, so its receive URL stays valid.
      Object.assign(fake.webhooks.get(made.id_webhook_endpoint)!, {
        scope: ['crm.stage.pulled', 'crm.user.pulled'],
        url: 'https://hooks.example.com/moved',
      });
      const moved = await admin('POST', '/admin/endpoints/import', {
        ...body,
        scope: ['crm.stage.pulled', 'crm.user.pulled'],
        url: 'https://hooks.example.com/moved',
      });
      expect(moved.status).toBe(201);
      expect(moved.body).toMatchObject({
        id: first.body.id,
        receiveUrl: first.body.receiveUrl,
        url: 'https://hooks.example.com/moved',
        scope: ['crm.stage.pulled', 'crm.user.pulled'],
        outcome: 'updated',
      });
      expect(await secretRows(first.body.id)).toEqual(rows);
      expect(await deliver(main, first.body.id, made.secret)).toBe(200);
    });

    it('should import the Panora id of a deleted endpoint as a new endpoint', async () => {
      const made = fake.addWebhook({ url: 'https://z.example.com/placeholder', scope: ['crm.deal.pulled'] });
      const body = { id_webhook_endpoint: made.id_webhook_endpoint, secret: made.secret };
      const first = await admin('POST', '/admin/endpoints/import', body);
      expect(first.status).toBe(201);
      fake.webhooks.delete(made.id_webhook_endpoint);
      expect((await admin('DELETE', `/admin/endpoints/${first.body.id}`)).status).toBe(200);
      fake.webhooks.set(made.id_webhook_endpoint, made);

      const again = await admin('POST', '/admin/endpoints/import', body);
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(first.body.id);
      expect(again.body.outcome).toBe('created');
      expect(await deliver(main, again.body.id, made.secret)).toBe(200);
      expect(await deliver(main, first.body.id, made.secret)).toBe(404);
    });
  });

  describe('changes of one endpoint at the same time', () => {
    it.each([
      ['answers 500 without making one', () => fake.failWith(500, { route: 'POST /webhooks' })],
      ['makes one, then answers 500', () => fake.actThenFail(500, { route: 'POST /webhooks' })],
    ])(
      'should leave one working endpoint at Panora and here when a second rotation, whose POST /webhooks %s, runs while the first waits for Panora',
      async (_name, failSecond) => {
        const endpoint = await register(['ticketing.tag.pulled']);
        // The first rotation: Panora makes its replacement, and its answer is held.
        const held = hold();
        const firstRotation = admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
        await held.arrived;
        // The second one meanwhile, failing ambiguously: settled through GET /webhooks, it used to
        // take the first one's endpoint as its own, and the first one's undo then deleted it.
        failSecond();
        const second = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
        held.release();
        const first = await firstRotation;

        // At Panora: exactly the endpoint this service holds is active at the URL, and it verifies.
        const [row] = await db.query<{ panora_endpoint_id: string }>(
          'SELECT panora_endpoint_id FROM webhook_endpoints WHERE id = $1',
          [endpoint.id],
        );
        const active = fake.findByUrl(endpoint.url).filter((w) => w.active);
        expect(active.map((w) => w.id_webhook_endpoint)).toEqual([row.panora_endpoint_id]);
        expect(await deliver(main, endpoint.id, active[0].secret)).toBe(200);
        expect(await deliver(other, endpoint.id, active[0].secret)).toBe(200);
        // The second one was refused before it called Panora; the first one finished.
        expect([first.status, second.status]).toEqual([200, 409]);
        expect(row.panora_endpoint_id).toBe(first.body.rotation.newPanoraEndpointId);
        expect(second.body).toMatchObject({ code: 'ENDPOINT_CHANGE_IN_PROGRESS' });
        expect(second.body.message).toMatch(
          /^Another change to endpoint \S+ is in progress .*: retry when it has finished$/,
        );
        expect(
          await db.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 AND change_token IS NOT NULL', [endpoint.id]),
        ).toEqual([]);
      },
    );

    it('should refuse other changes of that endpoint, on any instance, while one is at Panora, and leave other endpoints alone', async () => {
      const endpoint = await register(['ticketing.team.pulled']);
      const bystander = await register(['ticketing.user.pulled']);
      const newSecret = changeSecretInDashboard(endpoint.panoraEndpointId);
      const held = hold();
      const rotation = admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      await held.arrived;
      // Sync would take this scope from Panora, but not while the rotation runs.
      fake.webhooks.get(endpoint.panoraEndpointId)!.scope = ['ticketing.team.pulled', 'ticketing.tag.pulled'];

      const refused = [
        await call(other, 'POST', `/admin/endpoints/${endpoint.id}/rotate`),
        await call(other, 'PATCH', `/admin/endpoints/${endpoint.id}`, { active: false }),
        await admin('DELETE', `/admin/endpoints/${endpoint.id}`),
        await admin('POST', '/admin/endpoints/import', {
          id_webhook_endpoint: endpoint.panoraEndpointId,
          secret: newSecret,
        }),
      ];
      expect(refused.map((r) => [r.status, r.body.code])).toEqual(Array(4).fill([409, 'ENDPOINT_CHANGE_IN_PROGRESS']));
      const sync = await admin('POST', '/admin/endpoints/sync');
      expect(sync.status).toBe(200);
      expect(sync.body.updated.map((u: { id: string }) => u.id)).not.toContain(endpoint.id);
      expect(sync.body.warnings).toContain(
        `Endpoint ${endpoint.id} changed or was being changed during the sync: sync again`,
      );
      expect((await admin('PATCH', `/admin/endpoints/${bystander.id}`, { active: false })).status).toBe(200);

      held.release();
      expect((await rotation).status).toBe(200);
      // Once it is over, the endpoint takes changes again.
      expect((await call(other, 'PATCH', `/admin/endpoints/${endpoint.id}`, { active: false })).status).toBe(200);
      expect((await admin('GET', `/admin/endpoints/${endpoint.id}`)).body).toMatchObject({
        active: false,
        scope: ['ticketing.team.pulled'],
      });
    });

    it('should take over a change mark a crashed instance left, once its lease is over', async () => {
      const endpoint = await register(['ticketing.account.pulled']);
      await db.query(
        `UPDATE webhook_endpoints SET change_token = gen_random_uuid(), change_started_at = now() - interval '1 second'
          WHERE id = $1`,
        [endpoint.id],
      );
      expect((await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`)).status).toBe(409);
      await db.query(`UPDATE webhook_endpoints SET change_started_at = now() - interval '1 hour' WHERE id = $1`, [
        endpoint.id,
      ]);
      const rotated = await admin('POST', `/admin/endpoints/${endpoint.id}/rotate`);
      expect(rotated.status).toBe(200);
      expect(
        await db.query('SELECT 1 FROM webhook_endpoints WHERE id = $1 AND change_token IS NOT NULL', [endpoint.id]),
      ).toEqual([]);
    });
  });

  describe('secrets', () => {
    it('should never write a secret or a signature to an answer or the log', () => {
      const text = logs.text();
      for (const line of ['imported again into endpoint', 'Rotated the secret', 'Registered endpoint']) {
        expect(text).toContain(line);
      }
      const ledger = new SecretLedger()
        .add('endpoint secret', ...fake.issuedSecrets)
        .add('signature', ...signatures)
        .add('admin key', ADMIN_KEY);
      expect(ledger.count('endpoint secret')).toBeGreaterThan(5);
      expect(ledger.find(text, 'service log')).toEqual([]);
      expect(ledger.find(responses.join('\n'), 'answers')).toEqual([]);
    });
  });
});
