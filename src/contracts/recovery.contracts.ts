import { z } from 'zod';
import type { EventContract } from './event-contract';
import { timestamp } from './envelope.schema';

/** `recovery.event.missed`: Panora's metadata of an event this service never received. */
export const missedEventData = z.object({
  id_event: z.string().min(1),
  /** The type as Panora lists it (`.push` for some `.created`). */
  type: z.string().min(1),
  id_connection: z.string().nullable(),
  timestamp,
  provider: z.string().nullable(),
});
export type MissedEventData = z.infer<typeof missedEventData>;

export const RECOVERY_CONTRACTS: readonly EventContract[] = [
  {
    routingKey: 'recovery.event.missed',
    summary:
      "Recovery found in Panora's `GET /events` a webhook this service never received, of a type no module here recovers (ticketing, file storage, e-commerce, a CRM kind it does not project). Always `recovered: true`.",
    description:
      "Panora's metadata of the event only (its API gives back no payload): `id_event`, `type` as Panora lists it, " +
      "`id_connection`, `timestamp` (Panora's, also the event's `time`) and `provider`, for the sibling that " +
      "owns that data to read it again from Panora's unified API. The message `id` is derived from `id_event`. " +
      'Entity key `connection:<id_connection>` (`panora-event:<id_event>` without a connection).',
    data: missedEventData,
    example: {
      id_event: '3f0c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a090',
      type: 'ticketing.ticket.push',
      id_connection: '9b1e2c34-5d6f-4a7b-8c9d-0e1f2a3b4c5d',
      timestamp: '2026-11-23T10:15:02.123Z',
      provider: 'zendesk',
    } satisfies MissedEventData,
  },
];
