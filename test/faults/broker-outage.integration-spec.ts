import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { SecretLedger } from '../support/leaks';
import { insertEndpoint, waitFor } from '../support/panora';
import { freePort, ServiceProcess, spawnService, waitForOk } from '../support/process';
import { TcpProxy } from '../support/tcp-proxy';
import { Delivery, mixedDeliveries, pool, postDelivery } from './support/load';
import { assertBuilt } from './support/build';

const RABBITMQ_URL = process.env.RABBITMQ_URL;

// The deadlines below (waitFor) fail first, with what they waited for; this only has to exceed
// their sum on a loaded machine (~10 s usually).
jest.setTimeout(300_000);

const BROKER_OUTAGE_TESTS = {
  outage: 'should get every event to a consumer once the broker is back, while webhooks keep being acknowledged',
  secrets:
    'should not write an endpoint secret, connection token or signature to its log, a response body or a message',
};
const describeWithBroker = RABBITMQ_URL ? describe : describe.skip;
if (!RABBITMQ_URL) {
  console.warn(
    `RABBITMQ_URL is unset: these broker tests are SKIPPED:\n${Object.values(BROKER_OUTAGE_TESTS)
      .map((name) => `  - Fault: the broker goes away while events flow ${name}`)
      .join('\n')}`,
  );
}

interface ReadyBody {
  broker?: { status: string; pending?: number };
}

describeWithBroker('Fault: the broker goes away while events flow', () => {
  const exchange = `panora.events.faults.${randomBytes(4).toString('hex')}`;
  const queue = `pw-faults-${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  let baseUrl: string;
  let endpoint: { id: string; secret: string };
  let connection: ChannelModel;
  let channel: Channel;
  /** message_id → routing key, as the sibling service received them. */
  const received = new Map<string, string>();
  let deliveredMessages = 0;
  /** Every message body the sibling received, for the final scan. */
  const messageBodies: string[] = [];
  const measured: Record<string, unknown> = {};
  const ledger = new SecretLedger();
  /** Every response body this suite received, for the final scan. */
  const responses: string[] = [];

  const ready = async () => {
    const res = await fetch(`${baseUrl}/health/ready`);
    return { status: res.status, body: (await res.json()) as ReadyBody };
  };

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    endpoint = await insertEndpoint(db);
    ledger
      .add('endpoint secret', endpoint.secret)
      .add('secrets key', TEST_SECRETS_KEY)
      .add('oauth blob', 'enc:panora-access-blob', 'enc:panora-refresh-blob');
    const broker = new URL(RABBITMQ_URL!);
    proxy = await new TcpProxy(broker.hostname, Number(broker.port || 5672)).start();

    // The sibling service: its own durable queue, bound before anything is published, reached
    // directly (not through the proxy the service uses).
    connection = await connect(RABBITMQ_URL!);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, '#');
    await channel.consume(queue, (message) => {
      if (!message) return;
      deliveredMessages++;
      messageBodies.push(message.content.toString('utf8'));
      received.set(String(message.properties.messageId), message.fields.routingKey);
      channel.ack(message);
    });

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    service = spawnService({
      DATABASE_URL: db.url,
      PORT: String(port),
      SECRETS_KEY: TEST_SECRETS_KEY,
      // Everything it logs, broker errors included, is scanned for secrets at the end.
      LOG_LEVEL: 'debug',
      RABBITMQ_URL: proxy.rewrite(RABBITMQ_URL!),
      RABBITMQ_EXCHANGE: exchange,
      OUTBOX_POLL_MS: '200',
      OUTBOX_LEASE_MS: '1000',
      DISPATCH_POLL_MS: '200',
    });
    // Generous deadlines: the start of a Nest app on a loaded two-core machine.
    await waitForOk(`${baseUrl}/health/ready`, service, 60_000);
    await waitFor(async () => (await ready()).body.broker?.status === 'up', 30_000, 'the relay to connect');
  });

  afterAll(async () => {
    console.info(`broker-outage suite: ${JSON.stringify(measured)}`);
    proxy?.restore();
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await channel?.deleteQueue(queue).catch(() => undefined);
    await channel?.deleteExchange(exchange).catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await proxy?.stop();
    await db?.drop();
  });

  it(BROKER_OUTAGE_TESTS.outage, async () => {
    // More than the test sends: each phase below ends on what happened, not on a clock, so the load
    // must not run dry before.
    const deliveries = mixedDeliveries(endpoint.secret, 10_000);
    for (const d of deliveries) ledger.add('connection token', d.token).add('signature', d.headers['panora-signature']);
    let next = 0;
    let stop = false;
    const answers: { d: Delivery; status: number; duringOutage: boolean }[] = [];
    let outage = false;
    const load = pool(Array.from({ length: 8 }), 8, async () => {
      while (!stop && next < deliveries.length) {
        const d = deliveries[next++];
        const duringOutage = outage;
        const answer = await postDelivery(`${baseUrl}/webhooks/panora/${endpoint.id}`, d);
        answers.push({ d, status: answer.status, duringOutage });
        responses.push(answer.text);
        await sleep(5);
      }
    });
    const ranDry = () => {
      if (next >= deliveries.length)
        throw new Error(`all ${deliveries.length} deliveries were sent: make the list longer`);
    };
    const pending = async () =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox_messages WHERE published_at IS NULL'))[0].n;

    let receivedAtCut = 0;
    let pendingDuringOutage = 0;
    try {
      // Events flow to the consumer…
      await waitFor(async () => received.size >= 100, 30_000, 'the first events at the consumer');
      // …then the broker becomes unreachable.
      outage = true;
      proxy.cut();
      const cutAt = Date.now();
      const down = await waitFor(
        async () => {
          const r = await ready();
          return r.body.broker?.status === 'down' && r;
        },
        30_000,
        'the broker reported down',
      );
      expect(down.status).toBe(200); // still taking webhooks
      receivedAtCut = received.size;
      // The outage lasts a while (the relay backs off and retries meanwhile), webhooks keep being
      // acknowledged, and their events wait in the outbox.
      await waitFor(
        async () => {
          ranDry();
          pendingDuringOutage = await pending();
          return (
            Date.now() - cutAt >= 2_000 &&
            answers.filter((a) => a.duringOutage).length >= 200 &&
            pendingDuringOutage > 0
          );
        },
        30_000,
        'deliveries acknowledged and events waiting in the outbox during the outage',
      );
      outage = false;
      proxy.restore();
      // Deliveries go on arriving after the broker is back.
      const answeredBeforeRestore = answers.length;
      await waitFor(
        async () => {
          ranDry();
          return answers.slice(answeredBeforeRestore).filter((a) => !a.duringOutage).length >= 200;
        },
        30_000,
        'deliveries acknowledged after the broker came back',
      );
    } finally {
      stop = true;
      await load;
    }

    // Webhooks were acknowledged throughout, outage included.
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => a.duringOutage).length).toBeGreaterThan(0);
    expect(pendingDuringOutage).toBeGreaterThan(0);

    // Everything processed, everything published, and every message at the consumer.
    await waitFor(
      async () =>
        (
          await db.query<{ n: number }>(
            `SELECT ((SELECT count(*) FROM webhook_events WHERE status <> 'processed')
                  + (SELECT count(*) FROM outbox_messages WHERE published_at IS NULL))::int AS n`,
          )
        )[0].n === 0,
      90_000,
      'every event processed and published',
    ).catch(async (error: Error) => {
      const state = await db.query(
        `SELECT (SELECT count(*) FROM webhook_events WHERE status <> 'processed') AS unprocessed,
                (SELECT count(*) FROM outbox_messages WHERE published_at IS NULL) AS unpublished,
                (SELECT max(attempts) FROM outbox_messages) AS max_attempts,
                (SELECT string_agg(DISTINCT last_error, ' | ') FROM outbox_messages) AS errors`,
      );
      throw new Error(
        `${error.message}: ${JSON.stringify(state)} ${JSON.stringify((await ready()).body)}\n${service.output().slice(-3000)}`,
      );
    });
    const outbox = await db.query<{ id: string; type: string; entity_key: string }>(
      'SELECT id, type, entity_key FROM outbox_messages ORDER BY seq',
    );
    await waitFor(async () => received.size >= outbox.length, 30_000, 'every message at the consumer');
    expect(outbox.filter((row) => received.get(row.id) !== row.type)).toEqual([]);
    expect(received.size).toBe(outbox.length);

    // Each acknowledged delivery's entity event is among them.
    const types = new Set(outbox.map((row) => row.type));
    expect(types).toEqual(
      new Set([
        'connections.connection.created',
        'crm.contact.upserted',
        'crm.company.upserted',
        'connection.created',
        'crm.contact.created',
        'crm.company.created',
      ]),
    );
    const forwarded = new Set(
      outbox.filter((row) => row.entity_key.startsWith('panora-event:')).map((row) => row.entity_key.split(':').pop()),
    );
    expect(answers.filter((a) => !forwarded.has(a.d.idEvent))).toEqual([]);
    expect((await ready()).body.broker).toMatchObject({ status: 'up', pending: 0 });

    Object.assign(measured, {
      acknowledged: answers.length,
      acknowledgedDuringOutage: answers.filter((a) => a.duringOutage).length,
      receivedBeforeCut: receivedAtCut,
      pendingDuringOutage,
      outboxRows: outbox.length,
      deliveredToConsumer: deliveredMessages,
      redelivered: deliveredMessages - received.size,
    });
  });

  it(BROKER_OUTAGE_TESTS.secrets, async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    const logs = service.output();
    // The scan looked at something: a log with the outage in it, every answer, every message.
    expect(logs.length).toBeGreaterThan(1_000);
    expect(responses.length).toBeGreaterThan(100);
    expect(messageBodies.length).toBeGreaterThan(100);
    const leaks = [
      ...ledger.find(logs, 'service log'),
      ...responses.flatMap((text, i) => ledger.find(text, `response ${i}`)),
      ...messageBodies.flatMap((text, i) => ledger.find(text, `message ${i} at the sibling`)),
    ];
    expect(leaks).toEqual([]);
    Object.assign(measured, {
      scannedLogBytes: logs.length,
      scannedResponses: responses.length,
      scannedMessages: messageBodies.length,
    });
  });
});
