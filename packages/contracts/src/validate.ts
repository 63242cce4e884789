/**
 * Type guards and validators: each message is checked against its routing key's schema taken
 * from the service's contracts (src/contracts), the same one the service checks before publishing.
 */
import { z } from 'zod';
import { EVENT_CONTRACTS, envelopeSchema, exampleMessage } from '../../../src/contracts';
import type { BusEvent, EventOf, RoutingKey } from './events';

const MESSAGE_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>(
  EVENT_CONTRACTS.map((c) => [c.routingKey, envelopeSchema(c.data).extend({ type: z.literal(c.routingKey) })]),
);

/** Every routing key published on the bus, in the catalogue's order. */
export const ROUTING_KEYS: readonly RoutingKey[] = EVENT_CONTRACTS.map((c) => c.routingKey as RoutingKey);

/** True for a routing key the service publishes. */
export function isRoutingKey(value: unknown): value is RoutingKey {
  return typeof value === 'string' && MESSAGE_SCHEMAS.has(value);
}

/** True when `message` is a valid event of `routingKey` (its `type` included). */
export function isEvent<K extends RoutingKey>(routingKey: K, message: unknown): message is EventOf<K> {
  return MESSAGE_SCHEMAS.get(routingKey)?.safeParse(message).success === true;
}

/** One reason a message is not a valid event: where (`data.kind`, `type`…) and what. */
export interface EventIssue {
  path: string;
  message: string;
}

export type ParsedEvent = { ok: true; event: BusEvent } | { ok: false; issues: EventIssue[] };

/**
 * Checks a message (the parsed JSON body) against the schema of its `type`: the event, typed (a
 * copy holding the contract's fields only), or the issues. An unknown `type` is an issue.
 */
export function parseEvent(message: unknown): ParsedEvent {
  const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
  const schema = typeof type === 'string' ? MESSAGE_SCHEMAS.get(type) : undefined;
  if (schema === undefined) {
    const reason = typeof type === 'string' ? `unknown routing key ${JSON.stringify(type)}` : 'no routing key';
    return { ok: false, issues: [{ path: 'type', message: reason }] };
  }
  const result = schema.safeParse(message);
  if (result.success) return { ok: true, event: result.data as BusEvent };
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(message)',
    message: issue.message,
  }));
  return { ok: false, issues };
}

/** The contract's example message of a routing key (what the AsyncAPI document shows): for tests. */
export function exampleEvent<K extends RoutingKey>(routingKey: K): EventOf<K> {
  const contract = EVENT_CONTRACTS.find((c) => c.routingKey === routingKey);
  if (contract === undefined) throw new Error(`no contract for ${routingKey}`);
  return exampleMessage(contract) as EventOf<K>;
}
