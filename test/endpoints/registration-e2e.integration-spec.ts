import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp, TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { SecretLedger } from '../support/leaks';
import { LogCapture } from '../support/log-capture';
import { delivery } from '../support/panora';

describe('Registration end to end (admin API, fake Panora, signed delivery)', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  const logs = new LogCapture();
  const signatures: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await FakePanora.start('test-key');
    service = await startTestApp({
      databaseUrl: db.url,
      env: {
        PANORA_BASE_URL: fake.url,
        PANORA_API_KEY: 'test-key',
        ADMIN_API_KEYS: 'admin-key-0123456789',
        SECRETS_KEY: TEST_SECRETS_KEY,
      },
      override: logs.override,
    });
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
  });

  it('should accept a delivery signed with the secret Panora handed out at registration, and after a rotation', async () => {
    const res = await fetch(`${service.baseUrl}/admin/endpoints`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ scope: ['connection.created'] }),
    });
    expect(res.status).toBe(201);
    const endpoint = (await res.json()) as { id: string; url: string; panoraEndpointId: string };
    const registered = fake.webhooks.get(endpoint.panoraEndpointId)!;
    // Panora would POST to the URL it was given: the same path on this service.
    const target = `${service.baseUrl}${new URL(registered.url).pathname}`;
    expect(target).toBe(`${service.baseUrl}/webhooks/panora/${endpoint.id}`);

    const send = async (secret: string) => {
      const d = delivery({
        secret,
        type: 'connection.created',
        payload: { id_connection: 'c1', id_linked_user: 'u1' },
      });
      signatures.push(d.headers['panora-signature']);
      const answer = await fetch(target, { method: 'POST', headers: d.headers, body: d.body });
      return { status: answer.status, body: await answer.json(), idEvent: d.idEvent };
    };

    const first = await send(registered.secret);
    expect(first).toMatchObject({ status: 200, body: { received: true } });
    expect(await db.query('SELECT 1 FROM webhook_events WHERE id_event = $1', [first.idEvent])).toHaveLength(1);
    expect((await send(randomUUID())).status).toBe(401);

    const rotated = await fetch(`${service.baseUrl}/admin/endpoints/${endpoint.id}/rotate`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-key-0123456789' },
    });
    expect(rotated.status).toBe(200);
    const { rotation } = (await rotated.json()) as { rotation: { newPanoraEndpointId: string } };
    expect((await send(fake.webhooks.get(rotation.newPanoraEndpointId)!.secret)).status).toBe(200);
    expect((await send(registered.secret)).status).toBe(200);
  });

  it('should accept deliveries signed with the secret of the endpoint Panora made before failing the registration', async () => {
    fake.actThenFail(500, { route: 'POST /webhooks' });
    const res = await fetch(`${service.baseUrl}/admin/endpoints`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-key-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ scope: ['crm.contact.created'] }),
    });
    expect(res.status).toBe(201);
    const endpoint = (await res.json()) as { id: string; url: string };
    const [made, ...others] = fake.findByUrl(endpoint.url);
    expect(others).toEqual([]);
    const d = delivery({ secret: made.secret, type: 'filestorage.file.pulled', payload: [] });
    signatures.push(d.headers['panora-signature']);
    const answer = await fetch(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, {
      method: 'POST',
      headers: d.headers,
      body: d.body,
    });
    expect(answer.status).toBe(200);
  });

  it('should write no secret, signature or key to the log', () => {
    const text = logs.text();
    expect(text).toContain('Registered endpoint');
    expect(text).toContain('Rotated the secret');
    const ledger = new SecretLedger()
      .add('endpoint secret', ...fake.issuedSecrets)
      .add('signature', ...signatures)
      .add('admin key', 'admin-key-0123456789')
      .add('secrets key', TEST_SECRETS_KEY);
    expect(ledger.count('endpoint secret')).toBe(3);
    expect(ledger.find(text, 'service log')).toEqual([]);
    expect(text).not.toContain('test-key');
  });
});
