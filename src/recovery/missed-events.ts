import type { ActiveEndpointScope } from '../endpoints';
import { CRM_RECOVERY, type CrmRecoveryKind } from '../listeners/crm';
import { normaliseEventType, type PanoraEventRow } from '../panora';

/**
 * Which rows of Panora's `GET /events` were sent as webhooks (panora-recovery-facts.md §1): every
 * row is written whether or not a webhook went out, and our own reads write rows too.
 *
 * - `connection.created`: written and dispatched by every connection callback;
 * - `<vertical>.<object>.created` and `.push`: written and dispatched by the unified POST routes
 *   (`.push` under the scope `.created`);
 * - `<vertical>.<object>.pulled` only with method `SYNC`: a sync's ingest. The same names with
 *   method `GET` are list reads (recovery's own among them), never dispatched.
 *
 * Anything else (single reads `crm.contact.pull`, passthrough rows, batch sync starts) is no
 * delivery. Answers the type the delivery would have been normalised to, or null.
 */
export function deliveredType(row: Pick<PanoraEventRow, 'type' | 'method'>): string | null {
  const type = row.type.trim().toLowerCase();
  if (type === 'connection.created') return type;
  if (/^[a-z][a-z0-9_]*\.[a-z0-9_]+\.(created|push)$/.test(type)) return normaliseEventType(type);
  if (/^[a-z][a-z0-9_]*\.[a-z0-9_]+\.pulled$/.test(type) && row.method?.trim().toUpperCase() === 'SYNC') return type;
  return null;
}

/**
 * The first active endpoint (oldest first) subscribed to `type`, or undefined when none is: then
 * Panora sent the event to no endpoint of ours (it delivers an event to one matching endpoint).
 */
export function subscribedEndpoint(
  type: string,
  endpoints: readonly ActiveEndpointScope[],
): ActiveEndpointScope | undefined {
  return endpoints.find((endpoint) => endpoint.scope.includes(type));
}

/** Why the event is believed missed, for the admin reading it. */
export function missedReason(
  row: Pick<PanoraEventRow, 'type' | 'method' | 'timestamp'>,
  type: string,
  endpointId: string,
): string {
  const as = row.type === type ? type : `${row.type} (${type})`;
  return (
    `Panora's GET /events lists ${as}${row.method ? ` ${row.method.trim().toUpperCase()}` : ''} at ${row.timestamp}; ` +
    `endpoint ${endpointId} subscribes to ${type}; the inbox holds no delivery of it`
  );
}

/** What recovers a missed event of a (normalised) type. */
export type RecoveryPlan =
  /** `connection.*`: reconcile the connections with Panora's GET /connections. */
  | { action: 'reconcile' }
  /** A CRM kind the projections keep: re-read the connection's objects of the kind. */
  | { action: 'reread'; crm: CrmRecoveryKind }
  /** Anything else: tell the bus (`recovery.event.missed`), for the sibling that owns the data. */
  | { action: 'publish' };

export function planFor(type: string): RecoveryPlan {
  if (type.startsWith('connection.')) return { action: 'reconcile' };
  const crm = CRM_RECOVERY.find((kind) => kind.types.includes(type));
  return crm ? { action: 'reread', crm } : { action: 'publish' };
}
