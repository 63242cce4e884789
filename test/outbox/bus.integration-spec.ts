import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Channel, type ChannelModel, type MessageProperties } from 'amqplib';
import { DataSource } from 'typeorm';
import type { EventEnvelope } from '../../src/outbox/envelope';
import { OutboxPruner } from '../../src/outbox/outbox-pruner.service';
import type { BrokerHealth } from '../../src/outbox/outbox-relay.service';
import { OutboxContracts } from '../../src/outbox/outbox-contracts';
import { OutboxService, type OutboxMessageInput } from '../../src/outbox/outbox.service';
import { Metrics } from '../../src/platform/metrics';
import { startTestApp, type TestApp } from '../support/app';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TcpProxy } from '../support/tcp-proxy';

// Each test's deadlines (waitFor) fail first, with what they waited for; this only has to exceed
// their sum on a loaded machine (the broker cut test: ~2 s usually, up to ~110 s of deadlines).
jest.setTimeout(150_000);

const RABBITMQ_URL = process.env.RABBITMQ_URL;

const BROKER_TESTS = {
  envelope: 'should publish an enqueued event with the routing key, message properties and envelope of the contract',
  lateConsumer: 'should deliver events to a consumer that starts after they were published (durable queue)',
  relayOffThenOn: 'should publish rows enqueued while the relay was off once a relay with RABBITMQ_URL runs',
  markFails:
    'should publish again with the same message_id, never lose, when marking published fails after the confirm',
  connectionCut:
    'should deliver every event, in order per entity, after the broker connection is cut and comes back, reporting the broker down meanwhile',
  twoRelays: 'should keep per-entity order with two relays publishing the same outbox',
  recovered: 'should mark the envelope of an event made by recovery, and only that one',
};

/**
 * These tests exercise the bus itself with made-up routing keys (`t1.contact.upserted`, data
 * `{ n }`) that no contract in src/contracts knows: they opt out of the strict contract check that
 * tests otherwise get (a violation is logged and counted, as in production, instead of thrown).
 */
const madeUpEvents = (builder: TestingModuleBuilder): TestingModuleBuilder =>
  builder.overrideProvider(OutboxContracts).useFactory({
    factory: (metrics: Metrics) => new OutboxContracts(metrics, { contractViolations: 'log' }),
    inject: [Metrics],
  });

const describeWithBroker = RABBITMQ_URL ? describe : describe.skip;
if (!RABBITMQ_URL) {
  console.warn(
    `RABBITMQ_URL is unset: these broker tests are SKIPPED:\n${Object.values(BROKER_TESTS)
      .map((name) => `  - Event bus (RabbitMQ) ${name}`)
      .join('\n')}`,
  );
}

interface Received {
  routingKey: string;
  properties: MessageProperties;
  envelope: EventEnvelope<{ n: number }>;
}

function enqueue(service: TestApp, messages: OutboxMessageInput | OutboxMessageInput[]): Promise<void> {
  const outbox = service.app.get(OutboxService);
  return service.app.get(DataSource).transaction((manager) => outbox.enqueue(manager, messages));
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

interface ReadyBody {
  status: string;
  info?: Record<string, { status: string }>;
  broker?: BrokerHealth;
}

async function ready(service: TestApp): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${service.baseUrl}/health/ready`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/** First deliveries only (consumers dedupe on message_id), in arrival order. */
function firstDeliveries(received: Received[]): Received[] {
  const seen = new Set<string>();
  return received.filter((message) => {
    if (seen.has(message.properties.messageId as string)) return false;
    seen.add(message.properties.messageId as string);
    return true;
  });
}

/** Each key's events (first deliveries) arrived with `data.n` strictly increasing. */
function expectOrderPerKey(received: Received[]): void {
  const perKey = new Map<string, number[]>();
  for (const { envelope } of firstDeliveries(received)) {
    perKey.set(envelope.partitionkey, [...(perKey.get(envelope.partitionkey) ?? []), envelope.data.n]);
  }
  for (const [key, ns] of perKey) {
    expect({ key, ns }).toEqual({ key, ns: [...new Set(ns)].sort((a, b) => a - b) });
  }
}

/** A sibling service: its own durable queue bound to the exchange, read with plain amqplib. */
class Consumer {
  readonly received: Received[] = [];

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    readonly queue: string,
  ) {}

  /** Declares a durable queue bound to `pattern` (with a short-lived connection) and returns its name. */
  static async declareQueue(exchange: string, pattern: string): Promise<string> {
    const connection = await connect(RABBITMQ_URL!);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const queue = `pw-test-${randomBytes(5).toString('hex')}`;
      await channel.assertQueue(queue, { durable: true });
      await channel.bindQueue(queue, exchange, pattern);
      return queue;
    } finally {
      await connection.close();
    }
  }

  static async start(queue: string): Promise<Consumer> {
    const connection = await connect(RABBITMQ_URL!);
    const channel = await connection.createChannel();
    const consumer = new Consumer(connection, channel, queue);
    await channel.consume(queue, (message) => {
      if (!message) return;
      consumer.received.push({
        routingKey: message.fields.routingKey,
        properties: message.properties,
        envelope: JSON.parse(message.content.toString('utf8')),
      });
      channel.ack(message);
    });
    return consumer;
  }

  static async bind(exchange: string, pattern: string): Promise<Consumer> {
    return Consumer.start(await Consumer.declareQueue(exchange, pattern));
  }

  ids(): Set<string> {
    return new Set(this.received.map((message) => message.properties.messageId as string));
  }

  async close(): Promise<void> {
    await this.channel.deleteQueue(this.queue).catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}

describe('Event bus without a broker (RABBITMQ_URL unset)', () => {
  let db: TestDatabase;
  let service: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({ databaseUrl: db.url, env: { OUTBOX_POLL_MS: '100' }, override: madeUpEvents });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('should keep events in the outbox and answer ready 200 with the broker disabled', async () => {
    await enqueue(service, [
      { type: 'connections.connection.created', key: 'connection:c1', data: { n: 1 } },
      { type: 'crm.contact.upserted', key: 'contact:k1', data: { n: 2 } },
    ]);
    await sleep(500); // five poll intervals
    const rows = await db.query<{ type: string; published_at: Date | null; attempts: number }>(
      'SELECT type, published_at, attempts FROM outbox_messages ORDER BY seq',
    );
    expect(rows).toEqual([
      { type: 'connections.connection.created', published_at: null, attempts: 0 },
      { type: 'crm.contact.upserted', published_at: null, attempts: 0 },
    ]);
    const { status, body } = await ready(service);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' } },
      broker: { status: 'disabled', exchange: 'panora.events', pending: 2 },
    });
  });

  it('should write nothing when the caller transaction rolls back', async () => {
    const before = await db.query<{ count: string }>('SELECT count(*) FROM outbox_messages');
    const outbox = service.app.get(OutboxService);
    await expect(
      service.app.get(DataSource).transaction(async (manager) => {
        await outbox.enqueue(manager, { type: 'crm.contact.upserted', key: 'contact:rolled-back', data: {} });
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(await db.query('SELECT count(*) FROM outbox_messages')).toEqual(before);
  });

  it('should refuse to enqueue outside a transaction, and refuse invalid types, keys and data', async () => {
    const outbox = service.app.get(OutboxService);
    const dataSource = service.app.get(DataSource);
    await expect(outbox.enqueue(dataSource.manager, { type: 'a.b', key: 'k', data: {} })).rejects.toThrow(
      /open transaction/,
    );
    await expect(enqueue(service, { type: 'crm.*', key: 'k', data: {} })).rejects.toThrow(/Invalid event type/);
    await expect(enqueue(service, { type: 'a.b', key: '', data: {} })).rejects.toThrow(/Invalid entity key/);
    await expect(enqueue(service, { type: 'a.b', key: 'k', data: { big: 1n } })).rejects.toThrow(/JSON/);
  });

  it('should store the envelope fields given, with defaults for source, occurredAt and recovered', async () => {
    const occurredAt = new Date('2026-01-02T03:04:05.678Z');
    await enqueue(service, [
      {
        type: 'crm.company.created',
        key: 'company:1',
        data: { name: 'ACME' },
        source: 'crm-module',
        occurredAt,
        recovered: true,
      },
      { type: 'crm.company.created', key: 'company:2', data: null },
    ]);
    const rows = await db.query<Record<string, unknown>>(
      `SELECT entity_key, source, payload, occurred_at, recovered FROM outbox_messages WHERE type = 'crm.company.created' ORDER BY seq`,
    );
    expect(rows[0]).toEqual({
      entity_key: 'company:1',
      source: 'crm-module',
      payload: { name: 'ACME' },
      occurred_at: occurredAt,
      recovered: true,
    });
    expect(rows[1]).toMatchObject({
      entity_key: 'company:2',
      source: 'panora-webhooks',
      payload: null,
      recovered: false,
    });
  });

  it('should prune published rows past the retention period and keep unpublished ones, however old', async () => {
    await db.query(`
      INSERT INTO outbox_messages (type, entity_key, source, payload, occurred_at, published_at, created_at)
      VALUES ('prune.old', 'p:1', 's', '{}', now() - interval '100 hours', now() - interval '73 hours', now() - interval '100 hours'),
             ('prune.recent', 'p:2', 's', '{}', now() - interval '2 hours', now() - interval '1 hour', now() - interval '2 hours'),
             ('prune.unpublished', 'p:3', 's', '{}', now() - interval '500 hours', NULL, now() - interval '500 hours')`);
    expect(await service.app.get(OutboxPruner).prune()).toBe(1);
    const left = await db.query<{ type: string }>(
      `SELECT type FROM outbox_messages WHERE type LIKE 'prune.%' ORDER BY type`,
    );
    expect(left.map((row) => row.type)).toEqual(['prune.recent', 'prune.unpublished']);
  });
});

describeWithBroker('Event bus (RabbitMQ)', () => {
  const exchange = `panora.events.test.${randomBytes(4).toString('hex')}`;
  const brokerEnv = {
    RABBITMQ_URL: RABBITMQ_URL ?? '',
    RABBITMQ_EXCHANGE: exchange,
    OUTBOX_POLL_MS: '200',
    OUTBOX_LEASE_MS: '1000',
  };
  let db: TestDatabase;
  let service: TestApp;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({ databaseUrl: db.url, env: brokerEnv, override: madeUpEvents });
  });

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await service?.close();
    const connection = await connect(RABBITMQ_URL!);
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await db?.drop();
  });

  async function consumer(pattern: string): Promise<Consumer> {
    const created = await Consumer.bind(exchange, pattern);
    cleanup.push(() => created.close());
    return created;
  }

  it(BROKER_TESTS.envelope, async () => {
    const probe = await consumer('t1.#');
    const occurredAt = new Date('2026-11-23T10:00:00.000Z');
    await enqueue(service, { type: 't1.contact.upserted', key: 'contact:42', data: { n: 1 }, occurredAt });
    await waitFor('the event', () => probe.received.length >= 1);

    const [row] = await db.query<{ id: string; published_at: Date | null; attempts: number }>(
      `SELECT id, published_at, attempts FROM outbox_messages WHERE type = 't1.contact.upserted'`,
    );
    const [message] = probe.received;
    expect(message.routingKey).toBe('t1.contact.upserted');
    expect(message.properties).toMatchObject({
      messageId: row.id,
      contentType: 'application/cloudevents+json',
      deliveryMode: 2,
      type: 't1.contact.upserted',
      appId: 'panora-webhooks',
      headers: { 'x-entity-key': 'contact:42', 'x-cloudevents-specversion': '1.0' },
    });
    expect(message.properties.headers).not.toHaveProperty('x-envelope-version');
    expect(message.envelope).toEqual({
      specversion: '1.0',
      id: row.id,
      source: 'panora-webhooks',
      type: 't1.contact.upserted',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      partitionkey: 'contact:42',
      data: { n: 1 },
    });
    await waitFor('the row to be marked published', async () => {
      const [after] = await db.query<{ published_at: Date | null }>(
        'SELECT published_at FROM outbox_messages WHERE id = $1',
        [row.id],
      );
      return after.published_at !== null;
    });
    const { status, body } = await ready(service);
    expect(status).toBe(200);
    expect(body.broker).toMatchObject({ status: 'up', exchange, pending: 0 });
  });

  it(BROKER_TESTS.recovered, async () => {
    const probe = await consumer('t9.#');
    await enqueue(service, [
      { type: 't9.contact.upserted', key: 'contact:1', data: { n: 1 }, recovered: true },
      { type: 't9.contact.upserted', key: 'contact:2', data: { n: 2 } },
    ]);
    await waitFor('both events', () => probe.received.length >= 2);
    const byData = new Map(probe.received.map((m) => [m.envelope.data.n, m.envelope]));
    expect(byData.get(1)).toMatchObject({ partitionkey: 'contact:1', recovered: true });
    expect(byData.get(2)).not.toHaveProperty('recovered');
  });

  it(BROKER_TESTS.lateConsumer, async () => {
    const queue = await Consumer.declareQueue(exchange, 't2.#');
    const events = [1, 2, 3, 4, 5].map((n) => ({ type: 't2.deal.created', key: 'deal:1', data: { n } }));
    await enqueue(service, events);
    await waitFor('all five rows to be published', async () => {
      const rows = await db.query(
        `SELECT 1 FROM outbox_messages WHERE type = 't2.deal.created' AND published_at IS NOT NULL`,
      );
      return rows.length === 5;
    });

    // Nothing was consuming while they were published; a consumer starting now still gets them.
    const late = await Consumer.start(queue);
    cleanup.push(() => late.close());
    await waitFor('the five events', () => late.ids().size === 5);
    expect(firstDeliveries(late.received).map((message) => message.envelope.data.n)).toEqual([1, 2, 3, 4, 5]);
  });

  it(BROKER_TESTS.relayOffThenOn, async () => {
    const probe = await consumer('t3.#');
    const offDb = await createTestDatabase();
    cleanup.push(() => offDb.drop());
    const off = await startTestApp({
      databaseUrl: offDb.url,
      env: { ...brokerEnv, RABBITMQ_URL: '' },
      override: madeUpEvents,
    });
    try {
      await enqueue(
        off,
        [1, 2, 3].map((n) => ({ type: 't3.note.created', key: `note:${n}`, data: { n } })),
      );
    } finally {
      await off.close();
    }
    await sleep(300);
    expect(probe.received).toHaveLength(0);

    const on = await startTestApp({ databaseUrl: offDb.url, env: brokerEnv, override: madeUpEvents });
    try {
      await waitFor('the three events', () => probe.ids().size === 3);
      expect(new Set(probe.received.map((message) => message.envelope.data.n))).toEqual(new Set([1, 2, 3]));
      await waitFor('the outbox to be drained', async () => {
        const [row] = await offDb.query<{ pending: number }>(
          'SELECT count(*)::int AS pending FROM outbox_messages WHERE published_at IS NULL',
        );
        return row.pending === 0;
      });
    } finally {
      await on.close();
    }
  });

  it(BROKER_TESTS.markFails, async () => {
    const probe = await consumer('t4.#');
    // The process "dies" after the broker confirmed but before the rows are marked published:
    // the first marking statement fails once, as a crash or a lost database connection would.
    await db.query(`CREATE SEQUENCE t4_fail_mark`);
    await db.query(`
      CREATE FUNCTION t4_fail_mark_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type LIKE 't4.%' AND OLD.published_at IS NULL AND NEW.published_at IS NOT NULL
           AND nextval('t4_fail_mark') = 1 THEN
          RAISE EXCEPTION 'simulated crash between the confirm and the mark';
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(
      `CREATE TRIGGER t4_fail_mark BEFORE UPDATE ON outbox_messages FOR EACH ROW EXECUTE FUNCTION t4_fail_mark_once()`,
    );
    cleanup.push(() => db.query('DROP TRIGGER IF EXISTS t4_fail_mark ON outbox_messages'));
    try {
      await enqueue(
        service,
        [1, 2, 3].map((n) => ({ type: 't4.task.created', key: 'task:1', data: { n } })),
      );
      const ids = (
        await db.query<{ id: string }>(`SELECT id FROM outbox_messages WHERE type = 't4.task.created' ORDER BY seq`)
      ).map((row) => row.id);

      await waitFor('every row to be marked published', async () => {
        const rows = await db.query(
          `SELECT 1 FROM outbox_messages WHERE type = 't4.task.created' AND published_at IS NOT NULL`,
        );
        return rows.length === 3;
      });
      // Marked published = confirmed by the broker, the second copy included; the consumer gets
      // it a moment later.
      const copiesOfFirst = () => probe.received.filter((message) => message.properties.messageId === ids[0]);
      await waitFor(
        'every event, and the first one a second time',
        () => probe.ids().size === ids.length && copiesOfFirst().length >= 2,
        15_000,
      );
      // Nothing lost; the first published event came again, with the same message_id and body.
      expect(probe.ids()).toEqual(new Set(ids));
      const first = copiesOfFirst();
      expect(first[1].envelope).toEqual(first[0].envelope);
      expectOrderPerKey(probe.received);
    } finally {
      await db.query('DROP TRIGGER IF EXISTS t4_fail_mark ON outbox_messages');
    }
  });

  it(BROKER_TESTS.connectionCut, async () => {
    const probe = await consumer('t5.#');
    // Its own database, so only the relay behind the proxy publishes these rows.
    const cutDb = await createTestDatabase();
    cleanup.push(() => cutDb.drop());
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(RABBITMQ_URL!).port || 5672)).start();
    cleanup.push(() => proxy.stop());
    const viaProxy = await startTestApp({
      databaseUrl: cutDb.url,
      env: { ...brokerEnv, RABBITMQ_URL: proxy.rewrite(RABBITMQ_URL!) },
      override: madeUpEvents,
    });
    cleanup.push(() => viaProxy.close());

    const keys = ['connection:a', 'connection:b', 'connection:c', 'connection:d'];
    let n = 0;
    const produce = async (rounds: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        await enqueue(
          viaProxy,
          keys.map((key) => ({ type: 't5.connection.updated', key, data: { n } })),
        );
        n++;
        await sleep(10);
      }
    };

    await produce(10);
    await waitFor('events to flow', () => probe.received.length > 0);
    // Cut while events flow: when a round has rows reserved (published, confirms pending).
    const producing = produce(40); // accepted all along: while the broker is unreachable they wait in the outbox
    for (let tries = 0; tries < 2000; tries++) {
      const [row] = await cutDb.query<{ reserved: number }>(
        'SELECT count(*)::int AS reserved FROM outbox_messages WHERE locked_until IS NOT NULL AND published_at IS NULL',
      );
      if (row.reserved > 0) break;
    }
    proxy.cut();
    await producing;
    // Written while the broker is certainly unreachable, whenever the cut fell above.
    await produce(5);
    await waitFor(
      'ready to report the broker down',
      async () => (await ready(viaProxy)).body.broker?.status === 'down',
    );
    const during = await ready(viaProxy);
    expect(during.status).toBe(200);
    expect(during.body).toMatchObject({ status: 'ok', broker: { status: 'down' } });
    expect(during.body.broker?.pending).toBeGreaterThan(0);
    const receivedWhileDown = probe.received.length;
    await sleep(500);
    expect(probe.received.length).toBe(receivedWhileDown);

    proxy.restore();
    await produce(20);
    const rows = await cutDb.query<{ id: string }>(
      `SELECT id FROM outbox_messages WHERE type = 't5.connection.updated'`,
    );
    expect(rows).toHaveLength(75 * keys.length);
    await waitFor('every event after the broker came back', () => probe.ids().size === rows.length, 45_000);
    expect(probe.ids()).toEqual(new Set(rows.map((row) => row.id)));
    expectOrderPerKey(probe.received);
    await waitFor('ready to report the broker up', async () => (await ready(viaProxy)).body.broker?.status === 'up');
  });

  it(BROKER_TESTS.twoRelays, async () => {
    const probe = await consumer('t6.#');
    // A small batch on the second relay, so rounds cut runs of a key short.
    const second = await startTestApp({
      databaseUrl: db.url,
      env: { ...brokerEnv, OUTBOX_BATCH_SIZE: '5' },
      override: madeUpEvents,
    });
    cleanup.push(() => second.close());
    const keys = ['contact:1', 'contact:2', 'contact:3'];
    const producers = [service, second].map(async (app, which) => {
      for (let i = 0; i < 40; i++) {
        // Both instances write; each key's events are numbered in the order their transactions commit.
        await enqueue(
          app,
          keys.map((key) => ({ type: 't6.contact.upserted', key, data: { n: i * 2 + which } })),
        );
      }
    });
    await Promise.all(producers);
    const rows = await db.query<{ id: string }>(`SELECT id FROM outbox_messages WHERE type = 't6.contact.upserted'`);
    await waitFor('every event', () => probe.ids().size === rows.length, 30_000);
    // Order per key is the order of seq (commit order), whichever relay published.
    const seqOrder = await db.query<{ id: string; entity_key: string }>(
      `SELECT id, entity_key FROM outbox_messages WHERE type = 't6.contact.upserted' ORDER BY seq`,
    );
    for (const key of keys) {
      const expected = seqOrder.filter((row) => row.entity_key === key).map((row) => row.id);
      const got = firstDeliveries(probe.received)
        .filter((message) => message.envelope.partitionkey === key)
        .map((message) => message.properties.messageId);
      expect(got).toEqual(expected);
    }
  });
});
