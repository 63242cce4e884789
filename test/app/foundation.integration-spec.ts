import { randomUUID } from 'node:crypto';
import { MIGRATIONS } from '../../src/platform/database/migrations';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertEndpoint } from '../support/panora';
import { TcpProxy } from '../support/tcp-proxy';

describe('Foundation (HTTP, database, health)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let service: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    proxy = await TcpProxy.forUrl(db.url).start();
    service = await startTestApp({ databaseUrl: proxy.rewrite(db.url), env: { WEBHOOK_BODY_LIMIT: '64kb' } });
  });

  afterAll(async () => {
    await service?.close();
    await proxy?.stop();
    await db?.drop();
  });

  it('should run every migration at start', async () => {
    const rows = await db.query<{ name: string }>('SELECT name FROM typeorm_migrations ORDER BY id');
    expect(rows.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => (migration as { name: string }).name));
  });

  it('should answer live and ready while the database is up', async () => {
    const live = await fetch(`${service.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${service.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('should answer an unknown route with a JSON 404', async () => {
    const res = await fetch(`${service.baseUrl}/no/such/route`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'No such route: the routes this service offers are listed at /docs',
    });
  });

  it('should answer malformed JSON with a 400 that says what is wrong', async () => {
    const res = await fetch(`${service.baseUrl}/health/live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"id_event":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/not valid JSON/);
  });

  it('should never echo any part of a malformed body, which may hold a secret', async () => {
    const secret = 'abcdefgh-c0ffee-5ec2e7-token';
    const bodies = [
      `{"secret":${secret}}`,
      `{"secret":"${secret}"`,
      `{"secret":"${secret}",}`,
      secret,
      `{"a":1}${secret}`,
    ];
    const endpoint = await insertEndpoint(db);
    for (const body of bodies) {
      const res = await fetch(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(400);
      const text = await res.text();
      // Node's JSON.parse quotes about ten characters around the error: no piece of the secret back.
      for (let i = 0; i + 4 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 4));
      expect(JSON.parse(text)).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'The body is not valid JSON: send Content-Type: application/json with a JSON object body',
      });
    }
  });

  const badBodies: [string, number, string, string][] = [
    ['malformed JSON', 400, 'application/json', '{"id_event":'],
    ['an empty JSON body', 400, 'application/json', ''],
    ['a body over WEBHOOK_BODY_LIMIT', 413, 'application/json', JSON.stringify({ pad: 'x'.repeat(70_000) })],
    ['a content type with no parser', 415, 'application/xml', '<a/>'],
    ['form-encoded data (the service has no form parser)', 415, 'application/x-www-form-urlencoded', 'a=b'],
    ['plain text (the service has no text parser)', 415, 'text/plain', 'hello'],
  ];

  // The receive route is gated on its headers: a body for no endpoint is never read, let alone
  // parsed (docs/architecture.md, "Receiving Panora's webhooks").
  it.each(badBodies)('should answer %s sent to an unknown endpoint with 404', async (_, _status, contentType, body) => {
    const res = await fetch(`${service.baseUrl}/webhooks/panora/${randomUUID()}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    expect(res.status).toBe(404);
  });

  it.each(badBodies)('should answer %s sent to a real endpoint with %i', async (_, status, contentType, body) => {
    const endpoint = await insertEndpoint(db);
    const res = await fetch(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    expect(res.status).toBe(status);
  });

  it('should carry a request id back to the caller', async () => {
    const given = await fetch(`${service.baseUrl}/health/live`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const generated = await fetch(`${service.baseUrl}/health/live`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should report not ready (503) while the database is unreachable, and recover without a restart', async () => {
    proxy.cut();
    try {
      const down = await fetch(`${service.baseUrl}/health/ready`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
      expect((await fetch(`${service.baseUrl}/health/live`)).status).toBe(200);
    } finally {
      proxy.restore();
    }
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await fetch(`${service.baseUrl}/health/ready`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
