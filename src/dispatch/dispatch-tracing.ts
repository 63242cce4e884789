import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Span } from '@opentelemetry/api';
import { contextOfTraceparent, tracer } from '../platform/tracing';
import type { ClaimedRow } from './dispatch-queue.repository';
import type { ListenerOutcome } from './listener-registry';
import type { PanoraWebhookEvent } from './panora-event';

/** Each event's dispatch span while its listeners run (spans are only made while tracing is on). */
const dispatchSpans = new WeakMap<PanoraWebhookEvent, Span>();

interface TracedEvent {
  row: Pick<ClaimedRow, 'id' | 'normalized_type' | 'attempts' | 'traceparent'>;
  event: PanoraWebhookEvent;
}

/**
 * Starts a dispatch span per claimed event, a child of the receive span whose traceparent the
 * inbox row stored (a new trace for a row stored with tracing off). Answers the function that
 * ends them with each event's outcome.
 */
export function traceDispatch(
  events: readonly TracedEvent[],
): (outcomes: readonly { status: string; lastError: string | null }[]) => void {
  const spans = events.map(({ row, event }) => {
    const span = tracer().startSpan(
      `dispatch ${row.normalized_type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'panora.event.type': row.normalized_type,
          'panora.inbox.id': String(row.id),
          'panora.dispatch.attempt': row.attempts,
        },
      },
      contextOfTraceparent(row.traceparent),
    );
    dispatchSpans.set(event, span);
    return span;
  });
  return (outcomes) =>
    spans.forEach((span, i) => {
      const { status, lastError } = outcomes[i];
      span.setAttribute('panora.dispatch.outcome', status);
      if (status !== 'processed') span.setStatus({ code: SpanStatusCode.ERROR, message: lastError ?? status });
      span.end();
    });
}

/**
 * One listener call as a span: a child of the event's dispatch span; for a batch listener one
 * span for the batch, linked to each event's dispatch span (and their child too when the batch
 * holds one event, so a single delivery stays one trace). The span is active while the listener
 * runs: what it enqueues in the outbox carries the span's traceparent.
 */
export async function traceListener(
  listenerId: string,
  arg: PanoraWebhookEvent | PanoraWebhookEvent[],
  run: () => Promise<ListenerOutcome>,
): Promise<ListenerOutcome> {
  const events = Array.isArray(arg) ? arg : [arg];
  const spans = events.map((event) => dispatchSpans.get(event)).filter((span): span is Span => span !== undefined);
  const links: Link[] | undefined = Array.isArray(arg)
    ? spans.map((span) => ({ context: span.spanContext() }))
    : undefined;
  const parent =
    events.length === 1 && spans.length === 1
      ? trace.setSpan(ROOT_CONTEXT, spans[0])
      : Array.isArray(arg)
        ? ROOT_CONTEXT
        : context.active();
  const span = tracer().startSpan(
    `listener ${listenerId}`,
    {
      attributes: {
        'panora.listener.id': listenerId,
        ...(Array.isArray(arg) ? { 'panora.listener.batch_size': arg.length } : {}),
      },
      links,
    },
    parent,
  );
  try {
    const outcome = await context.with(trace.setSpan(parent, span), run);
    if (outcome.error) {
      span.recordException(outcome.error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
    }
    return outcome;
  } finally {
    span.end();
  }
}
