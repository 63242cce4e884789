import type { MixedList } from 'typeorm';
import { WebhookInboxAndEndpoints1795400000000 } from '../../../migrations/1795400000000-WebhookInboxAndEndpoints';
import { OutboxMessages1795400000100 } from '../../../migrations/1795400000100-OutboxMessages';
import { Connections1795400000200 } from '../../../migrations/1795400000200-Connections';
import { CrmProjections1795400000300 } from '../../../migrations/1795400000300-CrmProjections';
import { CrmChangeOrder1795400000400 } from '../../../migrations/1795400000400-CrmChangeOrder';
import { EventClaimId1795400000500 } from '../../../migrations/1795400000500-EventClaimId';
import { DeliveryReplayHash1795400000600 } from '../../../migrations/1795400000600-DeliveryReplayHash';
import { EndpointChangeLock1795400000700 } from '../../../migrations/1795400000700-EndpointChangeLock';
import { OutboxRecovered1795400000900 } from '../../../migrations/1795400000900-OutboxRecovered';
import { Recovery1795400001000 } from '../../../migrations/1795400001000-Recovery';
import { LeanerEventWrites1795400001100 } from '../../../migrations/1795400001100-LeanerEventWrites';
import { EventStreamPosition1795400001200 } from '../../../migrations/1795400001200-EventStreamPosition';
import { Tracing1795400001300 } from '../../../migrations/1795400001300-Tracing';

/**
 * Every migration, in order. A new file in `migrations/` (from `npm run migration:generate`) is
 * added here as well: an explicit list runs the same under ts-jest and the compiled build.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: MixedList<Function> = [
  WebhookInboxAndEndpoints1795400000000,
  OutboxMessages1795400000100,
  Connections1795400000200,
  CrmProjections1795400000300,
  CrmChangeOrder1795400000400,
  EventClaimId1795400000500,
  DeliveryReplayHash1795400000600,
  EndpointChangeLock1795400000700,
  OutboxRecovered1795400000900,
  Recovery1795400001000,
  LeanerEventWrites1795400001100,
  EventStreamPosition1795400001200,
  Tracing1795400001300,
];
