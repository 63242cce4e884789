import { z } from 'zod';

/** The CloudEvents version of the envelope (docs/events.md, "Message"). */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

const isoDateTime = z.iso.datetime({ offset: true });

/** An ISO 8601 timestamp as the service writes it (`Date.toISOString()`). */
export const timestamp = isoDateTime;

/** W3C Trace Context `traceparent`: version, trace id, parent span id, flags (lowercase hex). */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The whole message body on the bus: a CloudEvents 1.0 event in structured JSON mode around
 * `data`, with the extensions `partitionkey` (the entity key), `recovered` (present, and true,
 * only on an event made by recovery) and, while the service traces, CloudEvents' distributed
 * tracing extension (`traceparent`, `tracestate`).
 */
export function envelopeSchema<D extends z.ZodType>(data: D) {
  return z.object({
    specversion: z.literal(CLOUDEVENTS_SPEC_VERSION),
    id: z.uuid(),
    // A URI-reference (`panora-webhooks` is a relative one).
    source: z.string().min(1).max(200),
    type: z.string().min(1).max(255),
    time: isoDateTime,
    datacontenttype: z.literal('application/json'),
    partitionkey: z.string().min(1).max(500),
    recovered: z.literal(true).optional(),
    traceparent: z
      .string()
      .regex(TRACEPARENT)
      .optional()
      .describe('W3C traceparent of the publish span (only while the service traces): continue the trace from it'),
    tracestate: z.string().max(512).optional().describe('W3C tracestate that goes with traceparent, if any'),
    data,
  });
}
