import { SpanStatusCode } from '@opentelemetry/api';
import { activeTraceparent, tracer } from '../platform/tracing';
import type { InboxRow } from './inbox.repository';

/** What the writer answers a delivery: whether its row was inserted. */
interface Written {
  inserted: boolean;
}

/**
 * The inbox write as a child span of the receive span (only called while tracing is on). The row
 * carries the receive span's traceparent: the dispatcher continues the trace from it.
 */
export async function traceInboxWrite<T extends Written>(
  row: InboxRow,
  write: (row: InboxRow) => Promise<T>,
): Promise<T> {
  const traceparent = activeTraceparent();
  const span = tracer().startSpan('inbox write', {
    attributes: { 'panora.event.type': row.normalizedType, 'panora.endpoint.id': row.endpointId },
  });
  try {
    const result = await write({ ...row, traceparent });
    span.setAttribute('panora.event.duplicate', !result.inserted);
    return result;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}
