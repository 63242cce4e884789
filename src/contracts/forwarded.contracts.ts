import { z } from 'zod';
import { ALL_EVENT_TYPES, CRM_OBJECTS } from '../panora';
import type { EventContract } from './event-contract';
import { timestamp } from './envelope.schema';

/**
 * Panora event names also published by the CRM projection (`crm.<kind>.deleted`): Panora's own
 * event of that name is never forwarded (its `type` is not covered by the signature).
 */
export const NOT_FORWARDED: ReadonlySet<string> = new Set(CRM_OBJECTS.map((kind) => `crm.${kind}.deleted`));

/** Every Panora event type the forwarder puts on the bus, under its normalised name. */
export const FORWARDED_EVENT_TYPES: readonly string[] = ALL_EVENT_TYPES.filter((type) => !NOT_FORWARDED.has(type));

/** A Panora event as forwarded: its delivery metadata and Panora's payload, credentials redacted. */
export const forwardedEventData = z.object({
  idEvent: z.string().min(1),
  endpointId: z.string().min(1),
  /** The type as Panora delivered it (`crm.company.push` for `crm.company.created`). */
  deliveredType: z.string().min(1),
  receivedAt: timestamp,
  /**
   * Panora's `data` as delivered (an object; an array of rows for `*.pulled`), credentials redacted
   * at any depth. Forwarded as is even when it does not fit its type (Panora does not sign `type`).
   */
  payload: z.unknown(),
});
export type ForwardedEventData = z.infer<typeof forwardedEventData>;

const DESCRIPTION =
  "Panora's own event, forwarded: `idEvent` (Panora's `id_event`), `endpointId` (the endpoint that received it), " +
  "`deliveredType` (as Panora sent it), `receivedAt`, and `payload`: Panora's `data` as delivered (one object; " +
  'an array of rows for `*.pulled`), every credential redacted at any depth. The message `id` is derived from ' +
  'endpoint and `id_event`. Entity key `panora-event:<endpointId>:<idEvent>`.';

function example(type: string): ForwardedEventData {
  const pulled = type.endsWith('.pulled');
  const object = { id: '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716', remote_id: '77', field_mappings: {} };
  return {
    idEvent: '0d6c5b4a-3f2e-4d1c-9b8a-7f6e5d4c3b2a',
    endpointId: 'default',
    deliveredType: type.replace(/\.created$/, '.push'),
    receivedAt: '2026-11-23T10:00:00.000Z',
    payload:
      type === 'connection.created'
        ? {
            id_connection: '9b1e2c34-5d6f-4a7b-8c9d-0e1f2a3b4c5d',
            provider_slug: 'hubspot',
            connection_token: '[redacted]',
          }
        : pulled
          ? [object]
          : object,
  };
}

export const FORWARDED_CONTRACTS: readonly EventContract[] = FORWARDED_EVENT_TYPES.map((type) => ({
  routingKey: type,
  summary: `Panora delivered \`${type}\`${type.endsWith('.created') ? ' (or its `.push` alias)' : ''}: forwarded once per endpoint and \`id_event\`.`,
  description: DESCRIPTION,
  data: forwardedEventData,
  example: example(type),
}));
