import { z } from 'zod';
import { CONNECTION_CONTRACTS } from './connections.contracts';
import { CRM_CONTRACTS } from './crm.contracts';
import type { EventContract } from './event-contract';
import { envelopeSchema } from './envelope.schema';
import { FORWARDED_CONTRACTS } from './forwarded.contracts';
import { RECOVERY_CONTRACTS } from './recovery.contracts';

/** One contract per routing key published today, in catalogue order. */
export const EVENT_CONTRACTS: readonly EventContract[] = [
  ...CONNECTION_CONTRACTS,
  ...CRM_CONTRACTS,
  ...RECOVERY_CONTRACTS,
  ...FORWARDED_CONTRACTS,
];

const BY_KEY: ReadonlyMap<string, EventContract> = new Map(EVENT_CONTRACTS.map((c) => [c.routingKey, c]));
if (BY_KEY.size !== EVENT_CONTRACTS.length) throw new Error('EVENT_CONTRACTS: a routing key is listed twice');

/** The contract of a routing key; undefined for a key nothing here publishes. */
export function contractOf(routingKey: string): EventContract | undefined {
  return BY_KEY.get(routingKey);
}

/** The JSON Schema (draft 2020-12) of the whole message of `contract`: the envelope around its `data`. */
export function messageJsonSchema(contract: EventContract): object {
  const schema = envelopeSchema(contract.data).extend({ type: z.literal(contract.routingKey) });
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' });
}
