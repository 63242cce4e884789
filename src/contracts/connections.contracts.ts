import { z } from 'zod';
import type { EventContract } from './event-contract';
import { timestamp } from './envelope.schema';

/** A connection as `connections.connection.*` carries it (ConnectionView, as JSON, plus how it changed). */
export const connectionEventData = z.object({
  idConnection: z.string().min(1),
  providerSlug: z.string().nullable(),
  vertical: z.string().nullable(),
  status: z.string().nullable(),
  accountUrl: z.string().nullable(),
  idProject: z.string().nullable(),
  idLinkedUser: z.string().nullable(),
  linkedUserOriginId: z.string().nullable(),
  hasToken: z.boolean(),
  tokenHint: z.string().nullable(),
  panoraCreatedAt: timestamp.nullable(),
  source: z.enum(['webhook', 'reconciliation']),
  createdAt: timestamp,
  updatedAt: timestamp,
  /** True when this change came from reconciliation (Panora's GET /connections), not a webhook. */
  reconciled: z.boolean(),
  /** On `.updated`: the fields that changed. */
  changed: z.array(z.string()).optional(),
});
export type ConnectionEventData = z.infer<typeof connectionEventData>;

const DESCRIPTION =
  'The connection as stored (never its token: `hasToken` and a `tokenHint` only; a sibling reads the token from ' +
  '`GET /admin/connections/:id/token`): Panora ids, provider, vertical, status, end-user, timestamps, `source` of ' +
  'its last write, `reconciled` (this change came from reconciliation), and on `.updated` the `changed` fields. ' +
  'Entity key `connection:<idConnection>`.';

const example = (changed?: string[]): ConnectionEventData => ({
  idConnection: '9b1e2c34-5d6f-4a7b-8c9d-0e1f2a3b4c5d',
  providerSlug: 'hubspot',
  vertical: 'crm',
  status: 'valid',
  accountUrl: null,
  idProject: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f',
  idLinkedUser: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  linkedUserOriginId: 'user-42',
  hasToken: true,
  tokenHint: '…x9Qz',
  panoraCreatedAt: '2026-11-23T10:00:00.000Z',
  source: 'webhook',
  createdAt: '2026-11-23T10:00:01.000Z',
  updatedAt: changed ? '2026-11-24T08:30:00.000Z' : '2026-11-23T10:00:01.000Z',
  reconciled: false,
  ...(changed ? { changed } : {}),
});

export const CONNECTION_CONTRACTS: readonly EventContract[] = [
  {
    routingKey: 'connections.connection.created',
    summary: 'A connection this service did not know is stored (a `connection.created` webhook, or reconciliation).',
    description: DESCRIPTION,
    data: connectionEventData,
    example: example(),
  },
  {
    routingKey: 'connections.connection.updated',
    summary:
      'A known connection changed (re-authorised: Panora sends `connection.created` again; or reconciliation found a change).',
    description: DESCRIPTION,
    data: connectionEventData,
    example: example(['status', 'tokenHint']),
  },
];
