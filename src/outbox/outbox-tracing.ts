import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextOfTraceparent, traceHeaders, tracer, type TraceHeaders } from '../platform/tracing';
import type { OutboxRow } from './envelope';

/**
 * A publish as a producer span, child of the span that enqueued the row (a listener's; a new
 * trace for a row stored with tracing off). The message carries this span's context, so a
 * consumer's span joins the trace. Only called while tracing is on.
 */
export async function tracePublish(
  row: OutboxRow,
  exchange: string,
  publish: (trace: TraceHeaders) => Promise<void>,
): Promise<void> {
  const parent = contextOfTraceparent(row.traceparent);
  const span = tracer().startSpan(
    `publish ${row.type}`,
    {
      kind: SpanKind.PRODUCER,
      // OpenTelemetry's messaging conventions (still incubating, hence the literal names).
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': exchange,
        'messaging.rabbitmq.destination.routing_key': row.type,
        'messaging.message.id': row.id,
      },
    },
    parent,
  );
  try {
    await publish(traceHeaders(trace.setSpan(parent, span)));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}
