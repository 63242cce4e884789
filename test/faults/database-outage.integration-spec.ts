import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_SECRETS_KEY } from '../support/app';
import { baseDatabaseUrl, createTestDatabase, TestDatabase } from '../support/database';
import { SecretLedger } from '../support/leaks';
import { insertEndpoint, waitFor } from '../support/panora';
import { freePort, ServiceProcess, spawnService, waitForOk } from '../support/process';
import { TcpProxy } from '../support/tcp-proxy';
import { Delivery, mixedDeliveries, pool, postDelivery } from './support/load';
import { assertBuilt } from './support/build';

type Phase = 'before' | 'outage' | 'after';

interface Sent {
  d: Delivery;
  status: number;
  text: string;
  phase: Phase;
}

describe('Fault: the database goes away under load and comes back', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  let baseUrl: string;
  let endpoint: { id: string; secret: string };
  /** Registered before the outage, never used before it: its secret is not cached. */
  let coldEndpoint: { id: string; secret: string };
  const sent: Sent[] = [];
  const readyDuringOutage: number[] = [];
  const measured: Record<string, unknown> = {};
  let deliveries: Delivery[];
  const ledger = new SecretLedger();
  /** Every response body this suite received, for the final scan. */
  const responses: { what: string; text: string }[] = [];

  const url = (id = endpoint.id) => `${baseUrl}/webhooks/panora/${id}`;
  const ready = async () => (await fetch(`${baseUrl}/health/ready`)).status;

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    proxy = await TcpProxy.forUrl(baseDatabaseUrl()).start();
    endpoint = await insertEndpoint(db);
    coldEndpoint = await insertEndpoint(db);
    ledger
      .add('endpoint secret', endpoint.secret, coldEndpoint.secret)
      .add('secrets key', TEST_SECRETS_KEY)
      .add('oauth blob', 'enc:panora-access-blob', 'enc:panora-refresh-blob');
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // The built service, as it runs in production, reaching PostgreSQL through the proxy.
    service = spawnService({
      DATABASE_URL: proxy.rewrite(db.url),
      PORT: String(port),
      SECRETS_KEY: TEST_SECRETS_KEY,
      // Everything it logs, database errors included, is scanned for secrets at the end.
      LOG_LEVEL: 'debug',
      DISPATCH_POLL_MS: '200',
      // Events claimed when the outage began, whose outcome could not be recorded, are taken
      // again after the lease (60 s by default).
      DISPATCH_LEASE_MS: '2000',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
    });
    // A generous deadline: the start of a Nest app on a loaded two-core machine.
    await waitForOk(`${baseUrl}/health/ready`, service, 60_000);
    deliveries = mixedDeliveries(endpoint.secret, 6_000);
    for (const d of deliveries) ledger.add('connection token', d.token).add('signature', d.headers['panora-signature']);
  });

  afterAll(async () => {
    console.info(`database-outage suite: ${JSON.stringify(measured)}`);
    proxy?.restore();
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await proxy?.stop();
    await db?.drop();
  });

  it('should answer 503 while the database is unreachable, and never a 2xx for a delivery it did not store', async () => {
    let phase: Phase = 'before';
    let next = 0;
    let stop = false;
    const load = pool(Array.from({ length: 16 }), 16, async () => {
      while (!stop && next < deliveries.length) {
        const d = deliveries[next++];
        const at = phase;
        const answer = await postDelivery(url(), d);
        sent.push({ d, ...answer, phase: at });
        // A sender backs off a little on an error, as Panora's queue (5 at a time) would.
        if (answer.status !== 200) await sleep(50);
      }
    });
    const acknowledged = () => sent.filter((s) => s.status === 200).length;

    await waitFor(async () => acknowledged() >= 300, 30_000, '300 deliveries acknowledged before the outage');
    phase = 'outage';
    proxy.cut();
    const cutAt = Date.now();
    while (Date.now() - cutAt < 3_000) {
      readyDuringOutage.push(await ready());
      await sleep(250);
    }
    // An endpoint whose secret has to come from the database: 503 too, not 404.
    const [cold] = mixedDeliveries(coldEndpoint.secret, 1);
    ledger.add('connection token', cold.token).add('signature', cold.headers['panora-signature']);
    const coldAnswer = await postDelivery(url(coldEndpoint.id), cold);
    responses.push({ what: 'cold endpoint during the outage', text: coldAnswer.text });

    phase = 'after';
    proxy.restore();
    const before = acknowledged();
    // The pool reconnects on its own; on a loaded machine that can take a while.
    await waitFor(async () => acknowledged() >= before + 300, 60_000, '300 more deliveries acknowledged after it');
    stop = true;
    await load;

    measured.sent = sent.length;
    measured.byPhaseAndStatus = sent.reduce<Record<string, number>>((acc, s) => {
      const k = `${s.phase} ${s.status}`;
      return { ...acc, [k]: (acc[k] ?? 0) + 1 };
    }, {});
    expect(coldAnswer.status).toBe(503);
    expect([...new Set(sent.map((s) => s.status))].sort()).toEqual([200, 503]);
    expect(sent.filter((s) => s.phase === 'outage' && s.status === 503).length).toBeGreaterThan(0);
    expect(sent.filter((s) => s.status === 503).every((s) => /database is unreachable/.test(s.text))).toBe(true);
    expect(readyDuringOutage.length).toBeGreaterThan(0);
    expect(new Set(readyDuringOutage)).toEqual(new Set([503]));

    // Every 2xx is in the inbox, once.
    const stored = await db.query<{ id_event: string; n: number }>(
      'SELECT id_event, count(*)::int AS n FROM webhook_events GROUP BY id_event',
    );
    const storedIds = new Set(stored.map((r) => r.id_event));
    expect(stored.filter((r) => r.n !== 1)).toEqual([]);
    expect(sent.filter((s) => s.status === 200 && !storedIds.has(s.d.idEvent)).map((s) => s.d.idEvent)).toEqual([]);
    // A 503 whose insert committed just as the connection dropped is possible (the resend below is
    // then a duplicate); losing a 2xx is not.
    measured.refusedButStored = sent.filter((s) => s.status === 503 && storedIds.has(s.d.idEvent)).length;
  });

  it('should recover without a restart: ready again, new deliveries stored, everything stored processed', async () => {
    expect(await ready()).toBe(200);
    expect(sent.filter((s) => s.phase === 'after' && s.status === 200).length).toBeGreaterThanOrEqual(300);

    // A sender resends what got a 503.
    const refused = sent.filter((s) => s.status !== 200).map((s) => s.d);
    measured.resent = refused.length;
    const resentAt = Date.now();
    const answers: string[] = [];
    await pool(refused, 16, async (d) => {
      const answer = await postDelivery(url(), d);
      expect(answer.status).toBe(200);
      answers.push(answer.text);
      responses.push({ what: 'resend after the outage', text: answer.text });
    });
    expect(answers.filter((t) => JSON.parse(t).duplicate === true)).toHaveLength(Number(measured.refusedButStored));

    measured.resendMs = Date.now() - resentAt;
    const total = new Set(sent.map((s) => s.d.idEvent)).size;
    await waitFor(
      async () => {
        const [row] = await db.query<{ total: number; open: number }>(
          `SELECT count(*)::int AS total, count(*) FILTER (WHERE status <> 'processed')::int AS open FROM webhook_events`,
        );
        return row.total === total && row.open === 0;
      },
      60_000,
      `all ${total} events processed`,
    );
    const [{ failed }] = await db.query<{ failed: number }>(
      `SELECT count(*)::int AS failed FROM webhook_event_listeners WHERE status <> 'succeeded'`,
    );
    expect(failed).toBe(0);
    measured.processed = total;
    measured.processedMs = Date.now() - resentAt;
  });

  it('should not write an endpoint secret, connection token or signature to its log or a response body', async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    const logs = service.output();
    // The scan looked at something: a log with the outage in it, and every answer.
    expect(logs.length).toBeGreaterThan(1_000);
    expect(ledger.count('connection token')).toBeGreaterThan(1_000);
    const leaks = [
      ...ledger.find(logs, 'service log'),
      ...sent.flatMap((s) => ledger.find(s.text, `response (${s.phase} ${s.status})`)),
      ...responses.flatMap((r) => ledger.find(r.text, `response to ${r.what}`)),
    ];
    expect(leaks).toEqual([]);
    measured.scannedResponses = sent.length + responses.length;
    measured.scannedLogBytes = logs.length;
  });
});
