import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { connectionPayload, delivery, insertEndpoint, post, sign, waitFor } from '../support/panora';
import { TestListenersModule } from '../support/test-listeners';

const METRICS_TOKEN = 'metrics-token-0123456789';
const ADMIN_KEY = 'metrics-admin-key';

/** Parses the Prometheus text format into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable metrics line: ${line}`);
    values.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return values;
}

/** The value of one series; labels in any order. Undefined when the series is absent. */
function valueOf(values: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const [series, value] of values) {
    const match = /^([^{]+)(?:\{(.*)\})?$/.exec(series)!;
    if (match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.keys(found).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return value;
  }
  return undefined;
}

describe('GET /metrics (Prometheus)', () => {
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let receiveUrl: string;

  const scrape = async (token: string | null = METRICS_TOKEN, app = service) => {
    const res = await fetch(`${app.baseUrl}/metrics`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), text };
  };
  const metrics = async () => {
    const res = await scrape();
    expect(res.status).toBe(200);
    return parseMetrics(res.text);
  };
  const eventStatus = async (idEvent: string) =>
    (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id_event = $1', [idEvent]))[0]?.status;

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await FakePanora.start('panora-key');
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: {
        ADMIN_API_KEYS: ADMIN_KEY,
        METRICS_TOKEN,
        PANORA_BASE_URL: fake.url,
        PANORA_API_KEY: 'panora-key',
        WEBHOOK_BODY_LIMIT: '16kb',
        WEBHOOK_MAX_ATTEMPTS: '1',
        DISPATCH_POLL_MS: '100',
      },
    });
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.deal.created'] });
    receiveUrl = `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
  });

  describe('the token', () => {
    it('should refuse a scrape without the token, with a wrong one, or with an admin key', async () => {
      expect((await scrape(null)).status).toBe(401);
      expect((await scrape('not-the-metrics-token')).status).toBe(401);
      expect((await scrape(ADMIN_KEY)).status).toBe(401);
    });

    it('should answer the Prometheus text format with the token', async () => {
      const res = await scrape();
      expect(res.status).toBe(200);
      expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.text).toContain('# TYPE panora_webhooks_deliveries_received_total counter');
      expect(res.text).toContain('# TYPE panora_webhooks_ingest_duration_seconds histogram');
      expect(res.text).toContain('process_cpu_user_seconds_total');
      const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
        version: string;
      };
      expect(res.text).toContain(
        `panora_webhooks_build_info{version="${version}",node="${process.versions.node}"} 1\n`,
      );
    });

    it('should be open when METRICS_TOKEN is unset', async () => {
      const open = await startTestApp({ databaseUrl: db.url });
      try {
        const res = await scrape(null, open);
        expect(res.status).toBe(200);
        expect(res.text).toContain('panora_webhooks_deliveries_rejected_total');
      } finally {
        await open.close();
      }
    });
  });

  describe('the receiver', () => {
    const sent: string[] = [];

    beforeAll(async () => {
      // Accepted: two connection.created and one crm.deal.push (stored as crm.deal.created).
      for (const [type, payload] of [
        ['connection.created', connectionPayload()],
        ['connection.created', connectionPayload()],
        ['crm.deal.push', { id: randomUUID(), name: 'Big deal', amount: 1000, modified_at: '2026-11-23T04:00:00Z' }],
      ] as const) {
        const d = delivery({ secret: endpoint.secret, type, payload });
        expect((await post(receiveUrl, d)).status).toBe(200);
        sent.push(d.idEvent);
      }
      // Rejected: a wrong signature, none, an unknown endpoint, a bad body, a too large body, a duplicate.
      const wrong = delivery({ secret: 'not-the-secret', type: 'connection.created', payload: connectionPayload() });
      expect((await post(receiveUrl, wrong)).status).toBe(401);
      const unsigned = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
      expect((await post(receiveUrl, { ...unsigned, headers: { 'content-type': 'application/json' } })).status).toBe(
        401,
      );
      const elsewhere = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
      expect((await post(`${service.baseUrl}/webhooks/panora/${randomUUID()}`, elsewhere)).status).toBe(404);
      const noType = JSON.stringify({ id_event: randomUUID(), data: '{}' });
      expect(
        (
          await post(receiveUrl, {
            headers: { 'content-type': 'application/json', 'panora-signature': sign(endpoint.secret, '{}') },
            body: noType,
          })
        ).status,
      ).toBe(400);
      const huge = delivery({
        secret: endpoint.secret,
        type: 'connection.created',
        payload: connectionPayload({ padding: 'x'.repeat(20_000) }),
      });
      expect((await post(receiveUrl, huge)).status).toBe(413);
      const again = delivery({
        secret: endpoint.secret,
        type: 'connection.created',
        payload: connectionPayload(),
        idEvent: sent[0],
      });
      expect((await post(receiveUrl, again)).json).toEqual({ received: true, duplicate: true });

      // The deal's `test.broken` listener fails, and with WEBHOOK_MAX_ATTEMPTS=1 the event dies.
      await waitFor(async () => (await eventStatus(sent[2])) === 'dead', 10_000, 'the deal event dead');
      await waitFor(
        async () => (await eventStatus(sent[0])) === 'processed' && (await eventStatus(sent[1])) === 'processed',
        10_000,
        'the connections processed',
      );
    });

    it('should count stored deliveries by endpoint and normalised type', async () => {
      const values = await metrics();
      const received = (type: string) =>
        valueOf(values, 'panora_webhooks_deliveries_received_total', { endpoint: endpoint.id, type });
      expect(received('connection.created')).toBe(2);
      expect(received('crm.deal.created')).toBe(1);
      expect(received('crm.deal.push')).toBeUndefined();
    });

    it('should count rejections by reason, the too-large body included, and the duplicate apart', async () => {
      const values = await metrics();
      const rejected = (reason: string) => valueOf(values, 'panora_webhooks_deliveries_rejected_total', { reason });
      expect(rejected('signature_mismatch')).toBe(1);
      expect(rejected('signature_missing')).toBe(1);
      expect(rejected('signature_malformed')).toBe(0);
      expect(rejected('unknown_endpoint')).toBe(1);
      expect(rejected('body')).toBe(1);
      expect(rejected('size')).toBe(1);
      expect(rejected('duplicate')).toBeUndefined();
      expect(valueOf(values, 'panora_webhooks_deliveries_duplicate_total', { endpoint: endpoint.id })).toBe(1);
    });

    it('should time every answer of the receive route by HTTP status code', async () => {
      const values = await metrics();
      const count = (code: string) => valueOf(values, 'panora_webhooks_ingest_duration_seconds_count', { code });
      expect(count('200')).toBe(4); // three stored, one duplicate
      expect(count('401')).toBe(2);
      expect(count('404')).toBe(1);
      expect(count('400')).toBe(1);
      expect(count('413')).toBe(1);
      expect(valueOf(values, 'panora_webhooks_ingest_duration_seconds_sum', { code: '200' })).toBeGreaterThan(0);
    });

    it('should record processing lag, listener runs by outcome and dead events by listener', async () => {
      const values = await waitFor(async () => {
        const v = await metrics();
        return (valueOf(v, 'panora_webhooks_processing_lag_seconds_count', { outcome: 'processed' }) ?? 0) >= 2 && v;
      });
      expect(valueOf(values, 'panora_webhooks_processing_lag_seconds_count', { outcome: 'dead' })).toBe(1);
      const runs = (listener: string, outcome: string) =>
        valueOf(values, 'panora_webhooks_listener_runs_total', { listener, outcome });
      // test.recorder ran for the two connections and the deal; test.broken failed on its only attempt.
      expect([
        runs('test.recorder', 'succeeded'),
        runs('test.recorder', 'failed'),
        runs('test.recorder', 'dead'),
      ]).toEqual([3, 0, 0]);
      expect([runs('test.broken', 'succeeded'), runs('test.broken', 'failed'), runs('test.broken', 'dead')]).toEqual([
        0, 0, 1,
      ]);
      expect(valueOf(values, 'panora_webhooks_dead_events_total', { listener: 'test.broken' })).toBe(1);
      expect(valueOf(values, 'panora_webhooks_inbox_events', { status: 'dead' })).toBe(1);
      expect(valueOf(values, 'panora_webhooks_inbox_events', { status: 'received' })).toBe(0);
    });

    it('should read, as an operator scrapes it, a duplicate apart from rejections and the dead listener run', async () => {
      const { text } = await scrape();
      const lines = text.split('\n');
      expect(lines).toEqual(
        expect.arrayContaining([
          '# TYPE panora_webhooks_deliveries_duplicate_total counter',
          `panora_webhooks_deliveries_duplicate_total{endpoint="${endpoint.id}"} 1`,
          '# TYPE panora_webhooks_listener_runs_total counter',
          'panora_webhooks_listener_runs_total{listener="test.broken",outcome="dead"} 1',
          'panora_webhooks_listener_runs_total{listener="test.recorder",outcome="succeeded"} 3',
          'panora_webhooks_ingest_duration_seconds_count{code="200"} 4',
        ]),
      );
      expect(text).not.toContain('reason="duplicate"');
      expect(text).not.toContain('status="200"');
      // No RABBITMQ_URL here: the relay is off and the broker gauge is absent rather than 0.
      expect(text).not.toContain('panora_webhooks_broker_up');
    });

    it('should report the outbox backlog as the database has it (no broker here)', async () => {
      const [{ n }] = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox_messages WHERE published_at IS NULL',
      );
      expect(n).toBeGreaterThanOrEqual(2); // connections.connection.created, at least
      const values = await metrics();
      expect(valueOf(values, 'panora_webhooks_outbox_pending_messages')).toBe(n);
      expect(valueOf(values, 'panora_webhooks_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0);
    });
  });

  describe('the broker', () => {
    const brokerUp = async (app: TestApp) =>
      valueOf(parseMetrics((await scrape(null, app)).text), 'panora_webhooks_broker_up');
    let empty: TestDatabase;
    const apps: TestApp[] = [];
    // An empty database and an exchange of its own: the relay has nothing to publish, and nothing
    // reaches the queues of tests running elsewhere on the same broker.
    const startWithBroker = async (url: string) => {
      const app = await startTestApp({
        databaseUrl: empty.url,
        env: { RABBITMQ_URL: url, RABBITMQ_EXCHANGE: `metrics-test-${randomUUID()}` },
      });
      apps.push(app);
      return app;
    };

    beforeAll(async () => {
      empty = await createTestDatabase();
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
      await empty?.drop();
    });

    it('should say 0 while the relay cannot reach the broker', async () => {
      const app = await startWithBroker('amqp://guest:guest@127.0.0.1:1');
      expect(await brokerUp(app)).toBe(0);
    });

    (process.env.RABBITMQ_URL ? it : it.skip)('should say 1 once the relay is connected', async () => {
      const app = await startWithBroker(process.env.RABBITMQ_URL!);
      await waitFor(async () => (await brokerUp(app)) === 1, 10_000, 'broker_up 1');
    });
  });

  describe("Panora's API", () => {
    it('should count calls by route template and status, ids left out', async () => {
      const linkedUser = randomUUID();
      fake.linkedUsers.set(linkedUser, { id_linked_user: linkedUser, linked_user_origin_id: 'user-42' });
      const d = delivery({
        secret: endpoint.secret,
        type: 'connection.created',
        payload: connectionPayload({ id_linked_user: linkedUser }),
      });
      expect((await post(receiveUrl, d)).status).toBe(200);
      // (With WEBHOOK_MAX_ATTEMPTS=1 the resolver may die if it runs before the store commits: fine here.)
      await waitFor(
        async () => ['processed', 'dead'].includes((await eventStatus(d.idEvent)) ?? ''),
        10_000,
        'the connection event settled',
      );
      expect(fake.requestsTo('GET', `/linked_users/${linkedUser}`)).toHaveLength(1);

      fake.failWith(401, { route: 'GET /webhooks' });
      const sync = await fetch(`${service.baseUrl}/admin/endpoints/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(sync.status).toBe(502);

      const res = await scrape();
      const values = parseMetrics(res.text);
      const calls = (route: string, code: string) =>
        valueOf(values, 'panora_webhooks_panora_api_requests_total', { route, code });
      expect(calls('GET /linked_users/:id', '200')).toBe(1);
      expect(calls('GET /linked_users/:id', '404')).toBe(2); // the earlier connections' unknown linked users
      expect(calls('GET /webhooks', '401')).toBe(1);
      expect(res.text).not.toContain(linkedUser);
      expect(
        valueOf(values, 'panora_webhooks_panora_api_request_duration_seconds_count', {
          route: 'GET /linked_users/:id',
        }),
      ).toBe(3);
    });
  });
});
