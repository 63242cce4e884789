import { Injectable } from '@nestjs/common';
import { OutboxService } from '../../outbox';
import { mapUnifiedObject, type CrmKind, type CrmProjectionInput } from './crm-mapping';
import { crmOutboxMessage, type CrmObjectRow } from './crm-object';
import { CrmRepository } from './crm.repository';

export interface UpsertResult {
  /** Objects in the input after dropping duplicate ids. */
  received: number;
  /** Rows inserted or changed (one `crm.<kind>.upserted` event each). */
  changed: number;
}

/**
 * Writes the CRM projections and, in the same transaction, the `crm.<kind>.upserted` /
 * `crm.<kind>.deleted` events for exactly the rows that changed.
 */
@Injectable()
export class CrmProjectionService {
  constructor(
    private readonly crm: CrmRepository,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * Inserts or updates the objects (all of one kind) in one transaction. Idempotent: the same
   * input again changes nothing and emits nothing; an older version never replaces a newer one
   * (the staleness rule: crm.repository.ts).
   * @param eventId the inbox id of the event that carried them
   */
  async upsert(kind: CrmKind, objects: readonly CrmProjectionInput[], eventId: string): Promise<UpsertResult> {
    const received = new Set(objects.map((o) => o.id)).size;
    if (objects.length === 0) return { received, changed: 0 };
    return this.crm.transaction(async (manager) => {
      const rows = await this.crm.upsert(manager, kind, objects, eventId);
      await this.outbox.enqueue(
        manager,
        rows.map((row) => crmOutboxMessage('upserted', row)),
      );
      return { received, changed: rows.length };
    });
  }

  /**
   * Applies objects recovery read back from Panora's unified list of `kind` (GET /crm/<kind>s, for
   * one connection) after their webhooks never arrived: through the same stale guard as a delivery,
   * as of `asOf`, the inbox position read before Panora was called (an event received after it
   * wins a tie of `modified_at`, one received before loses it, as for connection reconciliation).
   * The `crm.<kind>.upserted` events of the rows that changed say `recovered: true`. Idempotent.
   * @throws CrmPayloadError for an object that cannot be read (not an object, no usable id)
   */
  async upsertRecovered(
    kind: CrmKind,
    objects: readonly unknown[],
    { connectionId, asOf }: { connectionId: string; asOf: string },
  ): Promise<UpsertResult> {
    const inputs = objects.map((object) => {
      const input = mapUnifiedObject(kind, object);
      return { ...input, connectionId: input.connectionId ?? connectionId };
    });
    const received = new Set(inputs.map((o) => o.id)).size;
    if (inputs.length === 0) return { received, changed: 0 };
    return this.crm.transaction(async (manager) => {
      const rows = await this.crm.upsert(manager, kind, inputs, asOf);
      await this.outbox.enqueue(
        manager,
        rows.map((row) => ({ ...crmOutboxMessage('upserted', row), recovered: true })),
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
    return this.crm.transaction(async (manager) => {
      const changed: CrmObjectRow[] = [];
      let received = 0;
      for (const kind of [...byKind.keys()].sort()) {
        const list = byKind.get(kind)!;
        received += new Set(list.map((o) => o.id)).size;
        changed.push(...(await this.crm.upsert(manager, kind, list, null)));
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
    return this.crm.transaction(async (manager) => {
      const rows = await this.crm.markDeleted(manager, kind, object, deletedAt, eventId);
      await this.outbox.enqueue(
        manager,
        rows.map((row) => crmOutboxMessage('deleted', row)),
      );
      return rows.length > 0;
    });
  }
}
