import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { LogCapture } from '../support/log-capture';
import { delivery, insertEndpoint, post, sign, waitFor } from '../support/panora';

const ADMIN_KEY = 'credentials-admin-key-0123456789';
/** 2^60 + 1: JSON.parse makes it 1152921504606846976. */
const BIG = '1152921504606846977';

const logs = new LogCapture();

/** Plaintext credentials sent in the deliveries below: none may be stored, answered or logged. */
const secrets: string[] = [];
const credential = (name: string) => {
  const value = `${name}-${randomUUID()}`;
  secrets.push(value);
  return value;
};

/** Credentials at every depth, in camelCase and snake_case, as a CRM provider's raw data may hold them. */
const nestedCredentials = () => ({
  access_token: credential('remote-access-token'),
  client_secret: credential('client-secret'),
  privateKey: credential('private-key'),
  aws_secret_access_key: credential('aws-secret'),
  integrations: [
    {
      name: 'mail',
      Authorization: `Bearer ${credential('authorization')}`,
      password: credential('password'),
      apiKey: credential('api-key'),
      id_token: credential('id-token'),
      refreshToken: credential('refresh-token-camel'),
    },
  ],
});

describe('Credentials in payloads (sealed or dropped at any depth; what Panora signed is kept)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let url: string;

  const stored = async (idEvent: string) => {
    const [row] = await db.query<{ id: string; text: string }>(
      'SELECT id::text AS id, payload::text AS text FROM webhook_events WHERE id_event = $1',
      [idEvent],
    );
    return row;
  };

  const admin = async (path: string) => {
    const res = await fetch(`${service.baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    return { status: res.status, text: await res.text() };
  };

  const expectNoSecret = (where: string, text: string) => {
    for (const secret of secrets)
      expect({ where, leaked: text.includes(secret) ? secret : undefined }).toEqual({ where });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      override: logs.override,
      env: { ADMIN_API_KEYS: ADMIN_KEY, LOG_LEVEL: 'debug' },
    });
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.contact.pulled'] });
    url = `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  describe('a connection.created whose data (a JSON string, as Panora sends it) holds a 2^60+1 and a __proto__ key', () => {
    const idConnection = randomUUID();
    const idEvent = randomUUID();
    let connectionToken: string;
    let row: { id: string; text: string };

    beforeAll(async () => {
      connectionToken = credential('connection-token');
      const payload = {
        id_connection: idConnection,
        status: 'valid',
        provider_slug: 'hubspot',
        vertical: 'crm',
        token_type: 'oauth2',
        access_token: credential('panora-access-blob'),
        refresh_token: credential('panora-refresh-blob'),
        connection_token: connectionToken,
        id_project: randomUUID(),
        id_linked_user: randomUUID(),
        remote_data: nestedCredentials(),
      };
      // The text Panora signed, with what JSON.stringify of a JS object cannot hold: a number beyond
      // 2^53 and a `__proto__` key (holding a credential of its own).
      const data = JSON.stringify(payload).replace(
        /}$/,
        `,"remote_account_id":${BIG},"__proto__":{"kept":true,"connectionToken":"${credential('proto-token')}"}}`,
      );
      const body = JSON.stringify({ id_event: idEvent, data, type: 'connection.created' });
      const answer = await post(url, {
        headers: { 'content-type': 'application/json', 'panora-signature': sign(endpoint.secret, data) },
        body,
      });
      expect(answer.status).toBe(200);
      row = await stored(idEvent);
      // The connections listener has run once the token can be read back.
      await waitFor(
        async () => (await admin(`/admin/connections/${idConnection}/token`)).status === 200,
        10_000,
        'the connection stored by its listener',
      );
    });

    it('should store no credential in plain text, at any depth, in any spelling', () => {
      expectNoSecret('stored payload', row.text);
      // The connection tokens are kept, sealed; Panora's OAuth blobs and the others are dropped.
      expect(row.text).toMatch(/"connection_token": "sb1\./);
      expect(row.text).toMatch(/"connectionToken": "sb1\./);
      expect(row.text).not.toMatch(/"(access_token|refresh_token|client_secret|privateKey|password|apiKey)"/);
    });

    it('should store every digit of a number beyond 2^53 and keep the __proto__ key', () => {
      expect(row.text).toContain(`"remote_account_id": ${BIG}`);
      expect(row.text).toMatch(/"__proto__": \{"kept": true/);
    });

    it('should hand the listeners the connection token opened again', async () => {
      const answer = await admin(`/admin/connections/${idConnection}/token`);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toMatchObject({ connectionToken });
    });

    it('should answer GET /admin/events/:id with every credential redacted and the __proto__ key kept', async () => {
      const answer = await admin(`/admin/events/${row.id}`);
      expect(answer.status).toBe(200);
      expectNoSecret('admin answer', answer.text);
      expect(answer.text).toContain('"connection_token":"[redacted]"');
      expect(answer.text).toContain('"__proto__":{"kept":true,"connectionToken":"[redacted]"}');
    });
  });

  it('should seal or drop credentials in every row of a *.pulled array, and in data sent as an object', async () => {
    const rows = [1, 2].map((n) => ({
      id: `contact-${n}`,
      first_name: 'Ada',
      connectionToken: credential('row-connection-token'),
      remote_data: nestedCredentials(),
    }));
    const pulled = delivery({ secret: endpoint.secret, type: 'crm.contact.pulled', payload: rows });
    expect((await post(url, pulled)).status).toBe(200);
    const asObject = delivery({
      secret: endpoint.secret,
      type: 'crm.contact.pulled',
      payload: [{ id: 'contact-3', remote_data: nestedCredentials() }],
      asObject: true,
    });
    expect((await post(url, asObject)).status).toBe(200);

    for (const idEvent of [pulled.idEvent, asObject.idEvent]) {
      const row = await stored(idEvent);
      expectNoSecret(`stored ${idEvent}`, row.text);
      expect(row.text).toContain('"id": "contact-');
    }
  });

  it('should log no credential, and no value of a query string (an admin key sent as ?key=)', async () => {
    const refused = await fetch(`${service.baseUrl}/admin/events?key=${ADMIN_KEY}&limit=5`);
    expect(refused.status).toBe(401);
    const text = await waitFor(
      async () => logs.text().includes('/admin/events?key=') && logs.text(),
      5_000,
      'the refused request logged',
    );
    expect(text).toContain('"url":"/admin/events?key=[redacted]&limit=[redacted]"');
    expect(text).not.toContain(ADMIN_KEY);
    // The requests above were logged too: the scan below is not vacuous.
    expect(text).toContain('/admin/connections/');
    expectNoSecret('log', text);
  });
});
