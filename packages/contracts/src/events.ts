/**
 * The TypeScript type of every event on the bus, keyed by routing key. The schemas below are the
 * service's own (src/contracts), given the precise type their `EventContract` erases; the build
 * (scripts/contracts-package.ts) fails unless each one's JSON Schema equals its contract's and the
 * routing keys are exactly the contracts'.
 */
import { z } from 'zod';
import {
  connectionEventData,
  crmObjectEventData,
  envelopeSchema,
  FORWARDED_EVENT_TYPES,
  forwardedEventData,
  missedEventData,
} from '../../../src/contracts';
import { CRM_OBJECTS, type CrmObject, type PanoraEventType } from '../../../src/panora';

const crmData = <K extends CrmObject>(kind: K) => crmObjectEventData.extend({ kind: z.literal(kind) });
const crmDeletedData = <K extends CrmObject>(kind: K) =>
  crmData(kind).extend({ deletedAt: crmObjectEventData.shape.deletedAt.unwrap() });

type CrmSchemas = { [K in CrmObject as `crm.${K}.upserted`]: ReturnType<typeof crmData<K>> } & {
  [K in CrmObject as `crm.${K}.deleted`]: ReturnType<typeof crmDeletedData<K>>;
};

/** Panora's events forwarded under their own name: all but `crm.<kind>.deleted` (the projection's). */
type ForwardedKey = Exclude<PanoraEventType, `crm.${CrmObject}.deleted`>;

/** The schema of `data`, per routing key. */
export const DATA_SCHEMAS = {
  'connections.connection.created': connectionEventData,
  'connections.connection.updated': connectionEventData,
  ...(Object.fromEntries(
    CRM_OBJECTS.flatMap((kind) => [
      [`crm.${kind}.upserted`, crmData(kind)] as const,
      [`crm.${kind}.deleted`, crmDeletedData(kind)] as const,
    ]),
  ) as CrmSchemas),
  'recovery.event.missed': missedEventData,
  ...(Object.fromEntries(FORWARDED_EVENT_TYPES.map((type) => [type, forwardedEventData] as const)) as Record<
    ForwardedKey,
    typeof forwardedEventData
  >),
};

/** Every routing key published on the bus (= the event's `type`). */
export type RoutingKey = keyof typeof DATA_SCHEMAS;

/** What `data` holds for a routing key. */
export type DataOf<K extends RoutingKey> = z.output<(typeof DATA_SCHEMAS)[K]>;

type Simplify<T> = { [P in keyof T]: T[P] };

type Envelope = z.output<ReturnType<typeof envelopeSchema<z.ZodNever>>>;

/**
 * The whole message of a routing key: a CloudEvents 1.0 event in structured JSON mode
 * (`specversion`, `id`, `source`, `type`, `time`, `datacontenttype`, the `partitionkey` and
 * `recovered` extensions) around its typed `data`.
 */
export type EventOf<K extends RoutingKey> = Simplify<Omit<Envelope, 'type' | 'data'> & { type: K; data: DataOf<K> }>;

/** Any event on the bus: a union discriminated by `type` (switch on it to narrow `data`). */
export type BusEvent = { [K in RoutingKey]: EventOf<K> }[RoutingKey];
