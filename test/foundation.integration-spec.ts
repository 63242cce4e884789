import { MIGRATIONS } from '../src/database/migrations';
import { startTestApp, TestApp } from './support/app';
import { createTestDatabase, TestDatabase } from './support/database';
import { TcpProxy } from './support/tcp-proxy';

describe('Foundation (HTTP, database, health)', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let service: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    proxy = await TcpProxy.forUrl(db.url).start();
    service = await startTestApp({ databaseUrl: proxy.rewrite(db.url) });
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
    expect(await res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /no/such/route' });
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
