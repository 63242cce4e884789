import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { OutboxService } from '../../outbox';
import type { CrmKind, CrmProjectionInput } from './crm-mapping';
import { CRM_OBJECT_COLUMNS, crmOutboxMessage, type CrmObjectRow } from './crm-object';

export interface UpsertResult {
  /** Objects in the input after dropping duplicate ids. */
  received: number;
  /** Rows inserted or changed (one `crm.<kind>.upserted` event each). */
  changed: number;
}

/*
 * One statement for one object or a batch of thousands. Per id, the newest version of the batch
 * wins (ON CONFLICT cannot touch a row twice): the newest `modifiedAt`, then the newest event;
 * rows are locked in id order so two batches never deadlock. The WHERE of the update is the
 * staleness rule, so that state never goes back in time, whatever order events are applied in
 * (events of one round run concurrently, a failed one is retried later, an admin replays an old
 * one):
 * - nothing changes when the object equals the stored one (duplicates, replays, re-syncs);
 * - an older `modified_at` than the stored one changes nothing (events arrive out of order), nor
 *   does a missing one when a dated version is stored (a dated version outranks undated ones);
 * - at an equal `modified_at`, a raw row (`*.pulled`) does not replace a unified object, and a
 *   unified object does replace a raw row;
 * - otherwise (equal `modified_at` and shape, or both undated) the event received last wins: the
 *   event's inbox id must be newer than the stored `last_event_id`;
 * - a deleted row comes back only with a strictly newer `modified_at`.
 * Raw rows lack some key columns (a contact's emails live in another table): those keep their
 * stored values. A row written takes a new place in the change order the read API follows
 * (change_xid, change_seq: the column defaults). RETURNING lists exactly the rows that changed.
 * `last_event_id` is the event that last changed the row: an event carrying exactly the stored
 * data writes nothing (a re-sync stays free), so it does not move it.
 */
const UPSERT_SQL = `
  WITH input AS (
    SELECT DISTINCT ON (o->>'id')
           o->>'id' AS panora_id, o->>'remoteId' AS remote_id, o->>'connectionId' AS connection_id,
           o->>'name' AS name, o->>'email' AS email, o->>'domain' AS domain,
           (o->>'modifiedAt')::timestamptz AS modified_at, o->>'shape' AS shape, o->'data' AS data,
           COALESCE((o->>'eventId')::bigint, $3::bigint) AS event_id
      FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(o, n)
     ORDER BY o->>'id', (o->>'modifiedAt')::timestamptz DESC NULLS LAST, o->>'shape' = 'unified' DESC,
              COALESCE((o->>'eventId')::bigint, $3::bigint) DESC, n DESC
  )
  INSERT INTO crm_objects AS c
         (kind, panora_id, remote_id, connection_id, name, email, domain, modified_at, shape, data,
          first_event_id, last_event_id)
  SELECT $1, panora_id, remote_id, connection_id, name, email, domain, modified_at, shape, data, event_id, event_id
    FROM input
   ORDER BY panora_id
  ON CONFLICT (kind, panora_id) DO UPDATE SET
         remote_id = COALESCE(EXCLUDED.remote_id, c.remote_id),
         connection_id = COALESCE(EXCLUDED.connection_id, c.connection_id),
         name = CASE WHEN EXCLUDED.shape = 'raw' THEN COALESCE(EXCLUDED.name, c.name) ELSE EXCLUDED.name END,
         email = CASE WHEN EXCLUDED.shape = 'raw' THEN COALESCE(EXCLUDED.email, c.email) ELSE EXCLUDED.email END,
         domain = CASE WHEN EXCLUDED.shape = 'raw' THEN COALESCE(EXCLUDED.domain, c.domain) ELSE EXCLUDED.domain END,
         modified_at = EXCLUDED.modified_at,
         shape = EXCLUDED.shape,
         data = EXCLUDED.data,
         last_event_id = EXCLUDED.last_event_id,
         updated_at = now(),
         deleted_at = NULL,
         change_xid = DEFAULT,
         change_seq = DEFAULT
   WHERE c.data IS DISTINCT FROM EXCLUDED.data
     AND CASE
           WHEN c.deleted_at IS NOT NULL THEN EXCLUDED.modified_at > c.modified_at
           WHEN c.modified_at IS NULL THEN EXCLUDED.modified_at IS NOT NULL OR EXCLUDED.last_event_id > c.last_event_id
           WHEN EXCLUDED.modified_at > c.modified_at THEN true
           WHEN EXCLUDED.modified_at = c.modified_at THEN
             CASE WHEN EXCLUDED.shape <> c.shape THEN EXCLUDED.shape = 'unified'
                  ELSE EXCLUDED.last_event_id > c.last_event_id END
           ELSE false
         END
  RETURNING ${CRM_OBJECT_COLUMNS}`;

/*
 * Marks an object deleted (or stores a tombstone for one never seen, so a late `.created` does
 * not bring it back). `$8` is the deletion time: the delete applies only when it is strictly newer
 * than the stored `modified_at`. Panora's signature does not cover `type`, so anyone holding one
 * signed delivery can resend its data as `.deleted`; that data is never newer than what it put in
 * the row, so such a replay changes nothing and emits nothing. The row and its data stay; the
 * stored `modified_at` becomes the deletion time, so only a strictly newer version revives it.
 */
const DELETE_SQL = `
  INSERT INTO crm_objects AS c
         (kind, panora_id, remote_id, connection_id, name, email, domain, modified_at, shape, data,
          first_event_id, last_event_id, deleted_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9, $10::jsonb, $11::bigint, $11::bigint, now())
  ON CONFLICT (kind, panora_id) DO UPDATE SET
         deleted_at = now(),
         modified_at = EXCLUDED.modified_at,
         last_event_id = EXCLUDED.last_event_id,
         updated_at = now(),
         change_xid = DEFAULT,
         change_seq = DEFAULT
   WHERE c.deleted_at IS NULL
     AND (c.modified_at IS NULL OR EXCLUDED.modified_at > c.modified_at)
  RETURNING ${CRM_OBJECT_COLUMNS}`;

/**
 * Writes the CRM projections and, in the same transaction, the `crm.<kind>.upserted` /
 * `crm.<kind>.deleted` events for exactly the rows that changed.
 */
@Injectable()
export class CrmProjectionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * Inserts or updates the objects (all of one kind) in one transaction. Idempotent: the same
   * input again changes nothing and emits nothing.
   * @param eventId the inbox id of the event that carried them
   */
  async upsert(kind: CrmKind, objects: readonly CrmProjectionInput[], eventId: string): Promise<UpsertResult> {
    const received = new Set(objects.map((o) => o.id)).size;
    if (objects.length === 0) return { received, changed: 0 };
    return this.dataSource.transaction(async (manager) => {
      const rows: CrmObjectRow[] = await manager.query(UPSERT_SQL, [kind, JSON.stringify(objects), eventId]);
      await this.outbox.enqueue(
        manager,
        rows.map((row) => crmOutboxMessage('upserted', row)),
      );
      return { received, changed: rows.length };
    });
  }

  /**
   * Upserts objects carried by many events (a dispatcher round) in one transaction: one statement
   * per kind, kinds in a fixed order, and one outbox write for every row that changed. Each object
   * names the event that carried it.
   */
  async upsertMany(
    objects: readonly (CrmProjectionInput & { kind: CrmKind; eventId: string })[],
  ): Promise<UpsertResult> {
    const byKind = new Map<CrmKind, (CrmProjectionInput & { eventId: string })[]>();
    for (const { kind, ...object } of objects) {
      const list = byKind.get(kind) ?? [];
      list.push(object);
      byKind.set(kind, list);
    }
    if (byKind.size === 0) return { received: 0, changed: 0 };
    return this.dataSource.transaction(async (manager) => {
      const changed: CrmObjectRow[] = [];
      let received = 0;
      for (const kind of [...byKind.keys()].sort()) {
        const list = byKind.get(kind)!;
        received += new Set(list.map((o) => o.id)).size;
        changed.push(...(await manager.query<CrmObjectRow[]>(UPSERT_SQL, [kind, JSON.stringify(list), null])));
      }
      await this.outbox.enqueue(
        manager,
        changed.map((row) => crmOutboxMessage('upserted', row)),
      );
      return { received, changed: changed.length };
    });
  }

  /**
   * Marks the object deleted as of `deletedAt` (ISO 8601); true when that changed the row (and the
   * event was emitted): not when it is deleted already, or stored with a `modified_at` at or after
   * `deletedAt`.
   */
  async markDeleted(kind: CrmKind, object: CrmProjectionInput, deletedAt: string, eventId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const rows: CrmObjectRow[] = await manager.query(DELETE_SQL, [
        kind,
        object.id,
        object.remoteId,
        object.connectionId,
        object.name,
        object.email,
        object.domain,
        deletedAt,
        object.shape,
        JSON.stringify(object.data),
        eventId,
      ]);
      await this.outbox.enqueue(
        manager,
        rows.map((row) => crmOutboxMessage('deleted', row)),
      );
      return rows.length > 0;
    });
  }
}
