import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { CrmKind, CrmProjectionInput } from './crm-mapping';
import type { CrmObjectRow } from './crm-object';

/** The columns every query of this module selects, in `CrmObjectRow`'s names. */
const CRM_OBJECT_COLUMNS =
  'kind, panora_id, remote_id, connection_id, name, email, domain, modified_at, shape, data, ' +
  'first_event_id::text AS first_event_id, last_event_id::text AS last_event_id, first_seen_at, updated_at, deleted_at';

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

/*
 * The change order: every insert or change of a row gives it a new (change_xid, change_seq): the id
 * of the transaction that wrote it and a number from a sequence. Both are taken when the row is
 * written, not when it commits, so a position alone is not safe to resume from: a transaction that
 * started earlier may commit rows below it later. The horizon fixes that: only rows written by a
 * transaction older than every transaction of this database still running are listed (from the
 * statement's own snapshot: its in-progress ids, else its xmax, the next id to be assigned).
 * Those transactions have all finished, and any row written from now on gets a transaction id at
 * or above the horizon, so nothing ever appears behind a position handed out. Only transactions
 * known to belong to another database of the server (pg_stat_activity) are left out of the
 * horizon: an id is never reused, so that holds whenever it was seen; anything not identified
 * counts. The horizon is read in the same statement (the same snapshot) as the rows.
 */
const LIST_SQL = `
  WITH h AS (
    SELECT COALESCE(
             (SELECT min(x) FROM pg_snapshot_xip(snap.s) AS x
               WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                  WHERE a.backend_xid = x::xid AND a.datname IS DISTINCT FROM current_database())),
             pg_snapshot_xmax(snap.s))::text::bigint AS horizon
      FROM (SELECT pg_current_snapshot() AS s) snap
  )
  SELECT h.horizon::text AS horizon, o.*
    FROM h
    LEFT JOIN LATERAL (
      SELECT ${CRM_OBJECT_COLUMNS}, change_xid::text AS change_xid, change_seq::text AS change_seq
        FROM crm_objects
       WHERE kind = $1
         AND change_xid < h.horizon
         AND (change_xid, change_seq) > ($2::bigint, $3::bigint)
         AND ($4::timestamptz IS NULL OR updated_at >= $4::timestamptz)
       ORDER BY change_xid, change_seq
       LIMIT $5
    ) o ON true`;

/** A row of a page: its place in the change order with it. */
export type CrmPageRow = CrmObjectRow & { change_xid: string; change_seq: string };
/** One row per object, or a single row of nulls (but the horizon) when none matched. */
type ListRow = { horizon: string } & (CrmPageRow | { panora_id: null });

/** An object to upsert; `eventId` names the event that carried it (else the statement's one). */
export type CrmUpsertInput = CrmProjectionInput & { eventId?: string };

/**
 * The SQL on `crm_objects`: the projection writes (each in the caller's transaction, which also
 * holds the outbox events of the rows it returns) and the read API's paging by change order.
 */
@Injectable()
export class CrmRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Upserts objects of one kind in one statement (`UPSERT_SQL`); the rows that changed.
   * @param eventId the inbox id of the event that carried them, for objects naming none (or null)
   */
  upsert(
    manager: EntityManager,
    kind: CrmKind,
    objects: readonly CrmUpsertInput[],
    eventId: string | null,
  ): Promise<CrmObjectRow[]> {
    return manager.query<CrmObjectRow[]>(UPSERT_SQL, [kind, JSON.stringify(objects), eventId]);
  }

  /** Marks the object deleted as of `deletedAt` (`DELETE_SQL`); the row when that changed it. */
  markDeleted(
    manager: EntityManager,
    kind: CrmKind,
    object: CrmProjectionInput,
    deletedAt: string,
    eventId: string,
  ): Promise<CrmObjectRow[]> {
    return manager.query<CrmObjectRow[]>(DELETE_SQL, [
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
  }

  /**
   * Up to `limit` objects of `kind` after the position `(xid, seq)` in the change order, below
   * the horizon (`LIST_SQL`), and that horizon.
   * @param updatedSince ISO 8601, or null for all
   */
  async page(
    kind: CrmKind,
    after: { xid: string; seq: string },
    updatedSince: string | null,
    limit: number,
  ): Promise<{ horizon: string; rows: CrmPageRow[] }> {
    const result = await this.dataSource.query<ListRow[]>(LIST_SQL, [kind, after.xid, after.seq, updatedSince, limit]);
    return {
      horizon: result[0].horizon,
      rows: result.filter((row): row is ListRow & CrmPageRow => row.panora_id !== null),
    };
  }

  async find(kind: CrmKind, id: string): Promise<CrmObjectRow | undefined> {
    const [row] = await this.dataSource.query<CrmObjectRow[]>(
      `SELECT ${CRM_OBJECT_COLUMNS} FROM crm_objects WHERE kind = $1 AND panora_id = $2`,
      [kind, id],
    );
    return row;
  }
}
