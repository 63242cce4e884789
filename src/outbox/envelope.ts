/** The CloudEvents version of the envelope below (structured JSON mode). */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/**
 * The AMQP `content_type` of every message: CloudEvents' AMQP binding, structured mode, sets it
 * to the event format's media type (the body is the whole event, attributes and `data`).
 */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

/** `datacontenttype` of every event: its `data` is JSON. */
export const DATA_CONTENT_TYPE = 'application/json';

/**
 * `source` of events this service emits, unless the caller names another: a CloudEvents
 * URI-reference (a relative one; `source` + `id` is unique per event).
 */
export const DEFAULT_EVENT_SOURCE = 'panora-webhooks';

/**
 * What every message on the exchange carries as its JSON body: a CloudEvents 1.0 event in
 * structured JSON mode. `id` is also the AMQP `message_id`: consumers dedupe on it.
 */
export interface EventEnvelope<T = unknown> {
  specversion: typeof CLOUDEVENTS_SPEC_VERSION;
  /** The outbox row id (a UUID): the same on every re-delivery of this event. */
  id: string;
  source: string;
  /** The event name, also the routing key (e.g. `crm.contact.upserted`). */
  type: string;
  /** When the state change happened (RFC 3339). */
  time: string;
  datacontenttype: typeof DATA_CONTENT_TYPE;
  /**
   * Extension: the entity the event is about (`connection:<id>`); events of one key arrive in
   * commit order.
   */
  partitionkey: string;
  /**
   * Extension, present (and true) only on an event made by recovery: its webhook never arrived,
   * and the state was read back from Panora's API instead (docs/architecture.md#recovery).
   */
  recovered?: true;
  /**
   * Extensions of CloudEvents' distributed tracing: the W3C trace context of the publish span,
   * present while tracing is on. The same values travel as AMQP headers.
   */
  traceparent?: string;
  tracestate?: string;
  data: T;
}

/** An outbox row as the relay reads it. */
export interface OutboxRow {
  id: string;
  type: string;
  entityKey: string;
  source: string;
  payload: unknown;
  occurredAt: Date;
  recovered: boolean;
  /** The traceparent of the span that enqueued it (a listener's), stored while tracing was on. */
  traceparent?: string | null;
}

/** @param trace the publish span's context (tracing on), as the CloudEvents extension carries it. */
export function buildEnvelope(row: OutboxRow, trace?: { traceparent?: string; tracestate?: string }): EventEnvelope {
  return {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: row.id,
    source: row.source,
    type: row.type,
    time: row.occurredAt.toISOString(),
    datacontenttype: DATA_CONTENT_TYPE,
    partitionkey: row.entityKey,
    ...(row.recovered ? { recovered: true as const } : {}),
    ...(trace?.traceparent ? { traceparent: trace.traceparent } : {}),
    ...(trace?.traceparent && trace.tracestate ? { tracestate: trace.tracestate } : {}),
    data: row.payload,
  };
}

// Topic exchanges match on dot-separated words; `*` and `#` are wildcards for bindings, so they
// never appear in a name we publish under.
const EVENT_TYPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const MAX_ROUTING_KEY_BYTES = 255;
const MAX_KEY_LENGTH = 500;

/** Throws when `type` cannot be a routing key (empty, a wildcard, over 255 bytes). */
export function assertEventType(type: string): void {
  if (!EVENT_TYPE.test(type) || Buffer.byteLength(type) > MAX_ROUTING_KEY_BYTES) {
    throw new Error(
      `Invalid event type ${JSON.stringify(type).slice(0, 80)}: expected dot-separated words of letters, digits, _ or - (at most 255 bytes)`,
    );
  }
}

/** Throws when `key` is empty or unreasonably long. */
export function assertEntityKey(key: string): void {
  if (typeof key !== 'string' || key.trim().length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new Error(`Invalid entity key: expected a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
  }
}
