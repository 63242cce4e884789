import { Logger } from '@nestjs/common';
import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';
import { parseEvent } from '@panora-webhooks/contracts';

/**
 * The pattern of a message that is not a valid event (no handler has it: Nest rejects it without
 * requeue, to the queue's dead-letter exchange if it has one).
 */
export const INVALID_EVENT = 'sibling-consumer.invalid-event';

/**
 * panora-webhooks publishes CloudEvents 1.0 events as plain JSON bodies (structured mode, AMQP content
 * type `application/cloudevents+json`), not Nest's `{ pattern, data }` packets. Each body is checked
 * against its routing key's contract (@panora-webhooks/contracts): the pattern is the event's `type`
 * (= routing key) and the handler gets the whole event, typed; a message that fails gets
 * INVALID_EVENT and its issues are logged (paths and reasons, never the message).
 */
export class EnvelopeDeserializer implements ConsumerDeserializer {
  private readonly logger = new Logger(EnvelopeDeserializer.name);

  deserialize(value: unknown, properties?: Record<string, unknown>): IncomingEvent {
    const parsed = parseEvent(value);
    if (parsed.ok) return { pattern: parsed.event.type, data: parsed.event };
    const id = typeof properties?.messageId === 'string' ? properties.messageId : '(no message_id)';
    const issues = parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    this.logger.warn(`message ${id} is not a valid panora-webhooks event: ${issues}`);
    return { pattern: INVALID_EVENT, data: parsed.issues };
  }
}
