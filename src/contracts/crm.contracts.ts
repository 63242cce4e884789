import { z } from 'zod';
import { CRM_OBJECTS } from '../panora';
import type { EventContract } from './event-contract';
import { timestamp } from './envelope.schema';

/** One projected CRM object as `crm.<kind>.*` carries it (the CRM module's CrmObjectView). */
export const crmObjectEventData = z.object({
  kind: z.enum(CRM_OBJECTS),
  /** Panora's id. */
  id: z.string().min(1),
  remoteId: z.string().nullable(),
  connectionId: z.string().nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  domain: z.string().nullable(),
  modifiedAt: timestamp.nullable(),
  /** `unified` for Panora's unified model, `raw` for a row of Panora's database (`*.pulled`). */
  shape: z.enum(['unified', 'raw']),
  /** The whole object as received, credentials redacted at any depth (Panora's fields pass through). */
  data: z.record(z.string(), z.unknown()),
  firstEventId: z.string().min(1),
  lastEventId: z.string().min(1),
  firstSeenAt: timestamp,
  updatedAt: timestamp,
  deletedAt: timestamp.nullable(),
});
export type CrmObjectEventData = z.infer<typeof crmObjectEventData>;

const DESCRIPTION =
  "The object as projected: `kind`, Panora `id`, `remoteId` (the provider's), `connectionId`, the `name`, `email` " +
  'and `domain` read from it, `modifiedAt`, `shape` (`unified` or `raw`), `data` (the whole object, credentials ' +
  'redacted), the inbox ids of the first and last events that changed it, and `deletedAt` (set on `.deleted`). ' +
  'Entity key `crm.<kind>:<id>`.';

function example(kind: (typeof CRM_OBJECTS)[number], deleted: boolean): CrmObjectEventData {
  return {
    kind,
    id: '3c9d7e2a-1b4f-4e6a-9c8d-7f6e5d4c3b2a',
    remoteId: '901',
    connectionId: null,
    name: kind === 'contact' ? 'Ada Lovelace' : `Example ${kind}`,
    email: kind === 'contact' ? 'ada@example.com' : null,
    domain: kind === 'company' ? 'example.com' : null,
    modifiedAt: '2026-11-23T09:59:00.000Z',
    shape: 'unified',
    data: { id: '3c9d7e2a-1b4f-4e6a-9c8d-7f6e5d4c3b2a', remote_id: '901', field_mappings: {} },
    firstEventId: '1041',
    lastEventId: deleted ? '1187' : '1041',
    firstSeenAt: '2026-11-23T10:00:00.120Z',
    updatedAt: deleted ? '2026-11-24T12:00:00.050Z' : '2026-11-23T10:00:00.120Z',
    deletedAt: deleted ? '2026-11-24T12:00:00.000Z' : null,
  };
}

export const CRM_CONTRACTS: readonly EventContract[] = CRM_OBJECTS.flatMap((kind): EventContract[] => {
  const data = crmObjectEventData.extend({ kind: z.literal(kind) });
  return [
    {
      routingKey: `crm.${kind}.upserted`,
      summary: `A ${kind} was created or changed in the projection (a webhook, a \`.pulled\` batch, or recovery): sent only when the stored object changed.`,
      description: DESCRIPTION,
      data,
      example: example(kind, false),
    },
    {
      routingKey: `crm.${kind}.deleted`,
      summary: `A ${kind} was marked deleted in the projection: sent only for a delete that applied (never Panora's own event of that name).`,
      description: DESCRIPTION,
      data: data.extend({ deletedAt: timestamp }),
      example: example(kind, true),
    },
  ];
});
