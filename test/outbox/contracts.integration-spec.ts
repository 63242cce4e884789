import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type MessageProperties } from 'amqplib';
import { buildEnvelope } from '../../src/outbox/envelope';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { FakePanora } from '../support/fake-panora';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { AsyncApiValidators } from './contracts-asyncapi';

jest.setTimeout(120_000);

const RABBITMQ_URL = process.env.RABBITMQ_URL;
const BROKER_TEST =
  'should publish, for every kind of delivery, messages on a real RabbitMQ that fit the schema of their routing key in the served AsyncAPI document';
const itWithBroker = RABBITMQ_URL ? it : it.skip;
if (!RABBITMQ_URL) {
  console.warn(
    `RABBITMQ_URL is unset: this broker test is SKIPPED (the outbox rows are checked against the same schemas instead):\n` +
      `  - Event contracts (AsyncAPI) ${BROKER_TEST}`,
  );
}

const KINDS = ['contact', 'company', 'deal'] as const;
type Kind = (typeof KINDS)[number];

/** Every routing key the deliveries below must produce: the listeners' events and the forwarded ones. */
const EXPECTED_KEYS = [
  'connections.connection.created',
  'connections.connection.updated',
  'connection.created',
  ...KINDS.flatMap((kind) => [
    `crm.${kind}.upserted`,
    `crm.${kind}.deleted`,
    `crm.${kind}.created`,
    `crm.${kind}.updated`,
    `crm.${kind}.pulled`,
  ]),
];

/** A unified CRM object as Panora's `crm.<kind>.*` webhooks carry it. */
function unified(kind: Kind, overrides: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    name: `Example ${kind}`,
    ...(kind === 'contact'
      ? {
          first_name: 'Ada',
          last_name: 'Lovelace',
          email_addresses: [{ email_address: 'ada@analytical.example', email_address_type: 'PRIMARY' }],
        }
      : {}),
    ...(kind === 'company' ? { email_addresses: [{ email_address: 'hello@acme.example' }] } : {}),
    ...(kind === 'deal' ? { amount: 1000 } : {}),
    field_mappings: {},
    remote_id: `hs-${randomUUID().slice(0, 8)}`,
    created_at: '2026-11-01T08:00:00.000Z',
    modified_at: '2026-11-01T08:00:00.000Z',
    ...overrides,
  };
}

/** A raw row of Panora's database, as `crm.<kind>.pulled` carries it. */
function raw(kind: Kind) {
  return {
    [`id_crm_${kind}`]: randomUUID(),
    name: `Pulled ${kind}`,
    created_at: '2026-11-01T08:00:00.000Z',
    modified_at: '2026-11-02T08:00:00.000Z',
    remote_platform: 'hubspot',
    remote_id: `hs-${randomUUID().slice(0, 8)}`,
    id_connection: randomUUID(),
  };
}

interface Received {
  routingKey: string;
  properties: MessageProperties;
  body: any;
}

type OutboxRow = {
  id: string;
  type: string;
  entity_key: string;
  source: string;
  payload: unknown;
  occurred_at: Date;
  recovered: boolean;
  published_at: Date | null;
};

describe('Event contracts (AsyncAPI): every kind of delivery the listeners handle, checked against the served schemas', () => {
  const exchange = `panora.events.contracts.${randomBytes(4).toString('hex')}`;
  const queue = `pw-contracts-${randomBytes(5).toString('hex')}`;
  const received: Received[] = [];
  let broker: ChannelModel | undefined;
  let db: TestDatabase;
  let fake: FakePanora;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let validators: AsyncApiValidators;
  let document: any;

  const deliver = async (type: string, payload: unknown) => {
    const d = delivery({ secret: endpoint.secret, type, payload });
    const res = await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d);
    expect({ type, status: res.status, json: res.json }).toEqual({ type, status: 200, json: { received: true } });
    const status = await waitFor(
      async () => {
        const [row] = await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id_event = $1', [
          d.idEvent,
        ]);
        return row && ['processed', 'failed', 'dead'].includes(row.status) && row.status;
      },
      30_000,
      `${type} processed`,
    );
    expect({ type, status }).toEqual({ type, status: 'processed' });
  };
  const outboxRows = () =>
    db.query<OutboxRow>(
      'SELECT id, type, entity_key, source, payload, occurred_at, recovered, published_at FROM outbox_messages ORDER BY seq',
    );
  const asMessage = (row: OutboxRow) =>
    JSON.parse(JSON.stringify(buildEnvelope({ ...row, entityKey: row.entity_key, occurredAt: row.occurred_at })));

  beforeAll(async () => {
    if (RABBITMQ_URL) {
      // A sibling service: its own queue bound to every key, declared before anything is published.
      broker = await connect(RABBITMQ_URL);
      const channel = await broker.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: false, exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      await channel.consume(queue, (message) => {
        if (!message) return;
        received.push({
          routingKey: message.fields.routingKey,
          properties: message.properties,
          body: JSON.parse(message.content.toString('utf8')),
        });
        channel.ack(message);
      });
    }
    db = await createTestDatabase();
    fake = await FakePanora.start('panora-key');
    service = await startTestApp({
      databaseUrl: db.url,
      env: {
        PANORA_BASE_URL: fake.url,
        PANORA_API_KEY: 'panora-key',
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '100',
        DISPATCH_POLL_MS: '100',
        OUTBOX_POLL_MS: '100',
        RABBITMQ_EXCHANGE: exchange,
        ...(RABBITMQ_URL ? { RABBITMQ_URL } : {}),
      },
    });
    endpoint = await insertEndpoint(db);

    // The served document, as a sibling reads it: no auth, JSON.
    const res = await fetch(`${service.baseUrl}/docs/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    document = await res.json();
    validators = new AsyncApiValidators(document);

    // Connection created, then re-authorised: the same id_connection with a new token.
    const connection = connectionPayload();
    fake.linkedUsers.set(connection.id_linked_user, { id_linked_user: connection.id_linked_user });
    await deliver('connection.created', connection);
    await deliver('connection.created', { ...connection, connection_token: randomUUID() });
    // CRM: created, updated, deleted, push (Panora's alias of created) and pulled, for each kind.
    for (const kind of KINDS) {
      const object = unified(kind);
      await deliver(`crm.${kind}.created`, object);
      await deliver(`crm.${kind}.updated`, {
        ...object,
        name: `Renamed ${kind}`,
        modified_at: '2026-11-02T08:00:00.000Z',
      });
      await deliver(`crm.${kind}.deleted`, { ...object, modified_at: '2026-11-03T08:00:00.000Z' });
      await deliver(`crm.${kind}.push`, unified(kind));
      await deliver(`crm.${kind}.pulled`, [raw(kind), raw(kind)]);
    }
  });

  afterAll(async () => {
    await service?.close();
    await fake?.stop();
    await db?.drop();
    if (broker) {
      const channel = await broker.createChannel().catch(() => undefined);
      await channel?.deleteExchange(exchange).catch(() => undefined);
      await broker.close().catch(() => undefined);
    }
  });

  it('should serve a channel for every routing key the deliveries produced', () => {
    expect(document.asyncapi).toBe('3.0.0');
    expect(validators.routingKeys).toEqual(expect.arrayContaining(EXPECTED_KEYS));
    for (const key of EXPECTED_KEYS) {
      const channel = Object.values<any>(document.channels).find((c) => c.address === key);
      expect(channel.bindings.amqp.exchange).toMatchObject({ name: exchange, type: 'topic', durable: true });
    }
  });

  it('should refuse, with each served schema, a message without data or with data {} (no hollow schema)', async () => {
    const rows = await outboxRows();
    for (const key of EXPECTED_KEYS) {
      const row = rows.find((r) => r.type === key)!;
      const message = asMessage(row);
      expect({ key, fits: validators.check(key, message) }).toEqual({ key, fits: undefined });
      const { data: _data, ...withoutData } = message;
      expect({ key, withoutData: validators.check(key, withoutData) }).toEqual({
        key,
        withoutData: expect.objectContaining({ routingKey: key }),
      });
      expect({ key, emptyData: validators.check(key, { ...message, data: {} }) }).toEqual({
        key,
        emptyData: expect.objectContaining({ routingKey: key }),
      });
    }
  });

  it('should write outbox rows, as messages, that fit the schema of their routing key in the served document', async () => {
    const rows = await outboxRows();
    expect([...new Set(rows.map((row) => row.type))]).toEqual(expect.arrayContaining(EXPECTED_KEYS));
    const violations = rows.flatMap((row) => validators.check(row.type, asMessage(row)) ?? []);
    expect(violations).toEqual([]);
  });

  itWithBroker(BROKER_TEST, async () => {
    // Every row published, and every one of them received by the sibling's queue.
    await waitFor(
      async () => (await outboxRows()).every((row) => row.published_at !== null),
      30_000,
      'every outbox row published',
    );
    const rows = await outboxRows();
    await waitFor(
      async () => rows.every((row) => received.some((m) => m.properties.messageId === row.id)),
      15_000,
      'every published row received',
    );
    expect(received.length).toBeGreaterThanOrEqual(rows.length);
    const violations = received.flatMap((m) => validators.check(m.routingKey, m.body) ?? []);
    expect(violations).toEqual([]);
    for (const m of received) {
      expect({ key: m.routingKey, type: m.body.type, messageId: m.properties.messageId }).toEqual({
        key: m.routingKey,
        type: m.routingKey,
        messageId: m.body.id,
      });
      expect(m.properties).toMatchObject({ deliveryMode: 2, contentType: 'application/cloudevents+json' });
      expect(m.body).toMatchObject({ specversion: '1.0', partitionkey: m.properties.headers?.['x-entity-key'] });
    }
    expect([...new Set(received.map((m) => m.routingKey))]).toEqual(expect.arrayContaining(EXPECTED_KEYS));
  });
});
