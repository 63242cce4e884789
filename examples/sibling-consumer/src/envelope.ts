import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';

/** The body of every panora-webhooks event (see the service's docs/events.md). */
export interface EventEnvelope<T = unknown> {
  version: number;
  /** Also the AMQP message_id: the same on every re-delivery. Dedupe on it. */
  id: string;
  /** The event name, also the routing key. */
  type: string;
  source: string;
  /** The entity the event is about; one key's events arrive in commit order. */
  key: string;
  occurredAt: string;
  data: T;
}

/**
 * panora-webhooks publishes plain JSON envelopes, not Nest's `{ pattern, data }` packets: the
 * pattern is the message's `type` property (= routing key), the handler gets the whole envelope.
 */
export class EnvelopeDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown, properties?: Record<string, unknown>): IncomingEvent {
    const envelope = value as Partial<EventEnvelope> | null;
    const pattern = typeof properties?.type === 'string' ? properties.type : envelope?.type;
    return { pattern: pattern ?? '', data: envelope };
  }
}
