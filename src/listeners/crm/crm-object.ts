import type { CrmObjectEventData } from '../../contracts';
import type { OutboxMessageInput } from '../../outbox';
import { redactObject } from '../../platform/secrets';
import type { CrmKind, CrmProjectionInput, CrmShape } from './crm-mapping';

/** A `crm_objects` row as crm.repository.ts selects it (`RETURNING` / `SELECT`). */
export interface CrmObjectRow {
  kind: CrmKind;
  panora_id: string;
  remote_id: string | null;
  connection_id: string | null;
  name: string | null;
  email: string | null;
  domain: string | null;
  modified_at: Date | null;
  shape: CrmShape;
  data: Record<string, unknown>;
  first_event_id: string;
  last_event_id: string;
  first_seen_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

/**
 * One projected CRM object, as the read API returns it and as the bus events carry it: what was
 * written (`modifiedAt` is that of the stored version; `shape` is `unified` for Panora's unified
 * model, `raw` for a row of Panora's database from `*.pulled`), plus its kind and history.
 */
export interface CrmObjectView extends CrmProjectionInput {
  kind: CrmKind;
  /** Inbox ids (`/admin/events/:id`) of the event that created the row and of the last one that changed it. */
  firstEventId: string;
  lastEventId: string;
  firstSeenAt: string;
  /**
   * When the projection last changed (what `updatedSince` filters on): the start of the
   * transaction that changed it, so not an order to page by (the cursor is).
   */
  updatedAt: string;
  deletedAt: string | null;
}

export function toView(row: CrmObjectRow): CrmObjectView {
  return {
    kind: row.kind,
    id: row.panora_id,
    remoteId: row.remote_id,
    connectionId: row.connection_id,
    name: row.name,
    email: row.email,
    domain: row.domain,
    modifiedAt: row.modified_at?.toISOString() ?? null,
    shape: row.shape,
    // Redacted when projected already; again here for rows stored before that was done.
    data: redactObject(row.data),
    firstEventId: row.first_event_id,
    lastEventId: row.last_event_id,
    firstSeenAt: row.first_seen_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deletedAt: row.deleted_at?.toISOString() ?? null,
  };
}

/** What this module publishes on the bus. */
export type CrmEventAction = 'upserted' | 'deleted';

/** `crm.<kind>.upserted` / `crm.<kind>.deleted`. */
export function crmEventType(kind: CrmKind, action: CrmEventAction): `crm.${CrmKind}.${CrmEventAction}` {
  return `crm.${kind}.${action}`;
}

/** The partition key of one object's events: `crm.<kind>:<panora id>`. */
export function crmEntityKey(kind: CrmKind, id: string): string {
  return `crm.${kind}:${id}`;
}

export function crmOutboxMessage(action: CrmEventAction, row: CrmObjectRow): OutboxMessageInput {
  // Typed by the contract of `crm.<kind>.*` (src/contracts): a view that drifts from it fails typecheck.
  const data: CrmObjectEventData = toView(row);
  return { type: crmEventType(row.kind, action), key: crmEntityKey(row.kind, row.panora_id), data };
}
