import { z } from 'zod';

/** The version of today's envelope (docs/events.md, "Message"). */
export const CONTRACT_ENVELOPE_VERSION = 1;

const isoDateTime = z.iso.datetime({ offset: true });

/** An ISO 8601 timestamp as the service writes it (`Date.toISOString()`). */
export const timestamp = isoDateTime;

/**
 * The whole message body on the bus: today's versioned envelope around `data`. `recovered` is
 * present (and true) only on an event made by recovery.
 */
export function envelopeSchema<D extends z.ZodType>(data: D) {
  return z.object({
    version: z.literal(CONTRACT_ENVELOPE_VERSION),
    id: z.uuid(),
    type: z.string().min(1).max(255),
    source: z.string().min(1).max(200),
    key: z.string().min(1).max(500),
    occurredAt: isoDateTime,
    recovered: z.literal(true).optional(),
    data,
  });
}
