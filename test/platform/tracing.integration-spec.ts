import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { isTracing, TRACE_EXPORTER } from '../../src/platform/tracing';
import { startTestApp, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';

jest.setTimeout(120_000);

const RABBITMQ_URL = process.env.RABBITMQ_URL;
const BROKER_TEST =
  'should make one trace of a delivery, from the receive route to the publish, that a consumer of the message joins';
const describeWithBroker = RABBITMQ_URL ? describe : describe.skip;
if (!RABBITMQ_URL) {
  console.warn(`RABBITMQ_URL is unset: this broker test is SKIPPED:\n  - Tracing on ${BROKER_TEST}`);
}

interface Received {
  routingKey: string;
  headers: Record<string, unknown>;
  envelope: Record<string, unknown>;
}

/** A sibling service: its own queue on the exchange, read with plain amqplib. */
async function bindConsumer(exchange: string): Promise<{ received: Received[]; close: () => Promise<void> }> {
  const connection: ChannelModel = await connect(RABBITMQ_URL!);
  const channel: Channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, '#');
  const received: Received[] = [];
  await channel.consume(queue, (message: ConsumeMessage | null) => {
    if (!message) return;
    received.push({
      routingKey: message.fields.routingKey,
      headers: message.properties.headers ?? {},
      envelope: JSON.parse(message.content.toString('utf8')) as Record<string, unknown>,
    });
    channel.ack(message);
  });
  return {
    received,
    close: async () => {
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

describeWithBroker('Tracing on', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let consumer: Awaited<ReturnType<typeof bindConsumer>>;
  const exporter = new InMemorySpanExporter();
  const exchange = `pw-trace-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    endpoint = await insertEndpoint(db);
    consumer = await bindConsumer(exchange);
    service = await startTestApp({
      databaseUrl: db.url,
      env: { RABBITMQ_URL: RABBITMQ_URL!, RABBITMQ_EXCHANGE: exchange, OUTBOX_POLL_MS: '100' },
      override: (builder) => builder.overrideProvider(TRACE_EXPORTER).useValue(exporter),
    });
  });

  afterAll(async () => {
    await service?.close();
    await consumer?.close();
    await db?.drop();
  });

  it(BROKER_TEST, async () => {
    const payload = connectionPayload();
    const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload });
    // Panora sends no traceparent today; a proxy or a load generator in front of the service may.
    const callerTraceparent = `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`;
    const res = await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, {
      ...d,
      headers: { ...d.headers, traceparent: callerTraceparent },
    });
    expect(res.status).toBe(200);

    // The projection's event and Panora's own, forwarded.
    const messages = await waitFor(
      async () => {
        const ofEvent = consumer.received.filter(
          (m) => m.routingKey === 'connections.connection.created' || m.routingKey === 'connection.created',
        );
        return ofEvent.length >= 2 ? ofEvent : undefined;
      },
      30_000,
      'both messages of the delivery on the exchange',
    );
    const spans = await waitFor(
      async () => {
        const finished = exporter.getFinishedSpans();
        return finished.filter((s) => s.kind === SpanKind.PRODUCER).length >= 2 ? finished : undefined;
      },
      10_000,
      'the two publish spans',
    );

    const named = (name: string): ReadableSpan => {
      const found = spans.filter((s) => s.name === name);
      expect({ name, count: found.length }).toEqual({ name, count: 1 });
      return found[0];
    };
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const idOf = (span: ReadableSpan) => span.spanContext().spanId;

    // One trace, the caller's.
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([CALLER_TRACE_ID]));

    const receive = named('POST /webhooks/panora/:endpointId');
    expect(receive.kind).toBe(SpanKind.SERVER);
    expect(parentOf(receive)).toBe(CALLER_SPAN_ID);
    expect(receive.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/webhooks/panora/:endpointId',
      'http.response.status_code': 200,
    });

    const inbox = named('inbox write');
    expect(parentOf(inbox)).toBe(idOf(receive));
    expect(inbox.attributes).toMatchObject({
      'panora.event.type': 'connection.created',
      'panora.event.duplicate': false,
    });

    const [event] = await db.query<{ id: string; traceparent: string }>(
      'SELECT id, traceparent FROM webhook_events WHERE id_event = $1',
      [d.idEvent],
    );
    expect(event.traceparent).toBe(`00-${CALLER_TRACE_ID}-${idOf(receive)}-01`);

    const dispatch = named('dispatch connection.created');
    expect(dispatch.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(dispatch)).toBe(idOf(receive));
    expect(dispatch.attributes).toMatchObject({ 'panora.inbox.id': event.id, 'panora.dispatch.outcome': 'processed' });

    const store = named('listener connections.store');
    expect(parentOf(store)).toBe(idOf(dispatch));
    // A batch listener: one span for the batch, linked to each event's dispatch span (here one).
    const forward = named('listener bus.forward');
    expect(parentOf(forward)).toBe(idOf(dispatch));
    expect(forward.links.map((link) => link.context.spanId)).toEqual([idOf(dispatch)]);
    expect(forward.attributes).toMatchObject({ 'panora.listener.batch_size': 1 });

    const outbox = await db.query<{ type: string; traceparent: string }>(
      'SELECT type, traceparent FROM outbox_messages ORDER BY seq',
    );
    expect(outbox).toEqual(
      expect.arrayContaining([
        { type: 'connections.connection.created', traceparent: `00-${CALLER_TRACE_ID}-${idOf(store)}-01` },
        { type: 'connection.created', traceparent: `00-${CALLER_TRACE_ID}-${idOf(forward)}-01` },
      ]),
    );

    for (const [routingKey, listener] of [
      ['connections.connection.created', store],
      ['connection.created', forward],
    ] as const) {
      const publish = named(`publish ${routingKey}`);
      expect(publish.kind).toBe(SpanKind.PRODUCER);
      expect(parentOf(publish)).toBe(idOf(listener));
      expect(publish.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': exchange,
        'messaging.rabbitmq.destination.routing_key': routingKey,
      });
      // The publish span's context, in the envelope (CloudEvents' extension) and as an AMQP header.
      const message = messages.find((m) => m.routingKey === routingKey)!;
      const traceparent = `00-${CALLER_TRACE_ID}-${idOf(publish)}-01`;
      expect(message.envelope.traceparent).toBe(traceparent);
      expect(message.headers.traceparent).toBe(traceparent);
      expect(Object.keys(message.envelope).at(-1)).toBe('data');
    }

    // A sibling's consumer, with its own OpenTelemetry SDK, continues the trace from the message.
    const siblingSpans = new InMemorySpanExporter();
    const sibling = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(siblingSpans)] });
    const message = messages.find((m) => m.routingKey === 'connections.connection.created')!;
    const parent = new W3CTraceContextPropagator().extract(ROOT_CONTEXT, message.envelope, {
      keys: (carrier) => Object.keys(carrier),
      get: (carrier, key) => (typeof carrier[key] === 'string' ? carrier[key] : undefined),
    });
    sibling
      .getTracer('sibling')
      .startSpan('process connections.connection.created', { kind: SpanKind.CONSUMER }, parent)
      .end();
    const [consumed] = siblingSpans.getFinishedSpans();
    expect(consumed.spanContext().traceId).toBe(CALLER_TRACE_ID);
    expect(parentOf(consumed)).toBe(idOf(named('publish connections.connection.created')));
    await sibling.shutdown();
  });
});

describe('Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  // Someone else's tracer provider, registered globally: the service, tracing off, must not use it.
  const canary = new InMemorySpanExporter();
  const canaryProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(canary)] });

  beforeAll(async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    db = await createTestDatabase();
    endpoint = await insertEndpoint(db);
    service = await startTestApp({ databaseUrl: db.url });
    trace.setGlobalTracerProvider(canaryProvider);
  });

  afterAll(async () => {
    await service?.close();
    trace.disable();
    await canaryProvider.shutdown();
    await db?.drop();
  });

  it('should store no traceparent and make no span', async () => {
    expect(isTracing()).toBe(false);
    const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
    const res = await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, {
      ...d,
      headers: { ...d.headers, traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01` },
    });
    expect(res.status).toBe(200);
    // Processed, its two outbox rows written (RABBITMQ_URL unset: they stay there).
    await waitFor(
      async () => {
        const [row] = await db.query<{ processed: boolean }>(
          `SELECT bool_and(status = 'processed') AND (SELECT count(*) FROM outbox_messages) >= 2 AS processed
             FROM webhook_events`,
        );
        return row.processed;
      },
      30_000,
      'the delivery processed',
    );
    expect(await db.query('SELECT status, traceparent FROM webhook_events WHERE id_event = $1', [d.idEvent])).toEqual([
      { status: 'processed', traceparent: null },
    ]);
    expect(await db.query('SELECT type, traceparent FROM outbox_messages ORDER BY type')).toEqual([
      { type: 'connection.created', traceparent: null },
      { type: 'connections.connection.created', traceparent: null },
    ]);
    expect(canary.getFinishedSpans()).toEqual([]);
  });

  it('should not even load the SDK, its exporter or their dependencies (memory)', () => {
    // The built service's modules, in a fresh process as `npm start` loads them.
    const loaded = execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(resolve(__dirname, '../../dist/src/app.module.js'))});
         const heavy = Object.keys(require.cache).filter(
           (k) => k.includes('@opentelemetry') && !k.includes('@opentelemetry' + '/api'),
         );
         process.stdout.write(JSON.stringify(heavy.map((k) => k.split('node_modules').pop()).slice(0, 5)));`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(loaded)).toEqual([]);
  });
});
