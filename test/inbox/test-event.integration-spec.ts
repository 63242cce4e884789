import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertEndpoint, waitFor } from '../support/panora';

const ADMIN_KEY = 'test-event-admin-key';

describe('POST /admin/endpoints/:id/test-event', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };

  const send = async (id: string, body: unknown, key: string | null = ADMIN_KEY) => {
    const res = await fetch(`${service.baseUrl}/admin/endpoints/${id}/test-event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({ databaseUrl: db.url, env: { ADMIN_API_KEYS: ADMIN_KEY, DISPATCH_POLL_MS: '100' } });
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.deal.created'] });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('should post a signed sample through the real receive route and answer the stored event', async () => {
    const res = await send(endpoint.id, { type: 'crm.deal.created' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      endpointId: endpoint.id,
      deliveredType: 'crm.deal.push',
      normalizedType: 'crm.deal.created',
      receiveAnswer: { received: true },
    });
    const [row] = await db.query<any>('SELECT * FROM webhook_events WHERE id = $1', [res.json.eventId]);
    expect(row).toMatchObject({
      id_event: res.json.idEvent,
      type: 'crm.deal.push',
      normalized_type: 'crm.deal.created',
    });
    expect(row.payload).toMatchObject({ name: expect.any(String), amount: expect.any(Number) });

    // It was received like any delivery: counted by the receiver, timed on the receive route.
    const metrics = await (await fetch(`${service.baseUrl}/metrics`)).text();
    expect(metrics).toContain(
      `panora_webhooks_deliveries_received_total{endpoint="${endpoint.id}",type="crm.deal.created"} 1`,
    );
    expect(metrics).toMatch(/panora_webhooks_ingest_duration_seconds_count\{code="200"\} 1\n/);

    await waitFor(
      async () =>
        (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id = $1', [res.json.eventId]))[0]
          .status === 'processed',
      10_000,
      'the test event processed',
    );
    const [deal] = await db.query<any>("SELECT name FROM crm_objects WHERE kind = 'deal' AND panora_id = $1", [
      row.payload.id,
    ]);
    expect(deal.name).toBe(row.payload.name);
  });

  it('should refuse unknown or disabled endpoints, types Panora does not offer, and callers without the admin key', async () => {
    expect((await send(randomUUID(), { type: 'connection.created' })).status).toBe(404);
    const disabled = await insertEndpoint(db, { active: false });
    expect((await send(disabled.id, { type: 'connection.created' })).status).toBe(404);
    const bad = await send(endpoint.id, { type: 'crm.contact.exploded' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toEqual(['type must be an event type Panora offers, e.g. connection.created']);
    expect((await send(endpoint.id, { type: 'connection.created' }, null)).status).toBe(401);
    expect((await send(endpoint.id, { type: 'connection.created' }, 'wrong')).status).toBe(401);
  });
});
