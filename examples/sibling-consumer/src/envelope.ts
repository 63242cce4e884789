import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';

/**
 * The body of every panora-webhooks event: a CloudEvents 1.0 event in structured JSON mode
 * (AMQP content type `application/cloudevents+json`; see the service's docs/events.md).
 */
export interface EventEnvelope<T = unknown> {
  specversion: '1.0';
  /** Also the AMQP message_id: the same on every re-delivery. Dedupe on it. */
  id: string;
  /** `panora-webhooks`. */
  source: string;
  /** The event name, also the routing key. */
  type: string;
  /** When the state change happened (RFC 3339). */
  time: string;
  datacontenttype: 'application/json';
  /** Extension: the entity the event is about; one key's events arrive in commit order. */
  partitionkey: string;
  /** Extension: true only on an event made by recovery (the state read back from Panora's API). */
  recovered?: true;
  data: T;
}

/**
 * panora-webhooks publishes CloudEvents as plain JSON bodies, not Nest's `{ pattern, data }` packets: the
 * pattern is the message's `type` property (= routing key), the handler gets the whole envelope.
 */
export class EnvelopeDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, properties?: Record<string, unknown>): IncomingEvent {
    const envelope = value as Partial<EventEnvelope> | null;
    const pattern = typeof properties?.type === 'string' ? properties.type : envelope?.type;
    return { pattern: pattern ?? '', data: envelope };
  }
}
