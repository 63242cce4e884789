import { Injectable, Logger } from '@nestjs/common';
import { OnPanoraEvent, OnPanoraEventBatch, type PanoraWebhookEvent } from '../../dispatch';
import { CRM_OBJECTS, type PanoraCrmObject, type PanoraPulledRows } from '../../panora';
import { CrmPayloadError, deletionTime, isCrmKind, mapRawRow, mapUnifiedObject, type CrmKind } from './crm-mapping';
import { CrmProjectionService } from './crm-projection.service';

/** Unified objects: `.created` (and its `.push` alias, normalised by the dispatcher) and `.updated`. */
const UPSERT_TYPES = CRM_OBJECTS.flatMap((kind) => [`crm.${kind}.created` as const, `crm.${kind}.updated` as const]);
const PULLED_TYPES = CRM_OBJECTS.map((kind) => `crm.${kind}.pulled` as const);
const DELETED_TYPES = CRM_OBJECTS.map((kind) => `crm.${kind}.deleted` as const);

/**
 * Keeps the CRM projections (`crm_objects`) up to date from Panora's `crm.*` events. A payload
 * that cannot be stored at all throws, so the event is recorded as failed (and visible in
 * `/admin/events`) rather than dropped. Payloads are never logged.
 */
@Injectable()
export class CrmListener {
  private readonly logger = new Logger(CrmListener.name);

  constructor(private readonly projections: CrmProjectionService) {}

  /**
   * A whole dispatcher round in one transaction (the dispatcher retries event by event when it
   * throws, so one object that cannot be mapped fails alone).
   */
  @OnPanoraEventBatch(UPSERT_TYPES, 'crm.projection')
  async onObjects(events: PanoraWebhookEvent<PanoraCrmObject>[]): Promise<void> {
    await this.projections.upsertMany(
      events.map((event) => {
        const kind = kindOf(event.type);
        return { ...mapUnifiedObject(kind, event.data), kind, eventId: event.meta.inboxId };
      }),
    );
  }

  @OnPanoraEvent(PULLED_TYPES, 'crm.projection.pulled')
  async onPulled(event: PanoraWebhookEvent<PanoraPulledRows>): Promise<void> {
    const kind = kindOf(event.type);
    const rows: unknown = event.data;
    if (!Array.isArray(rows)) {
      throw new CrmPayloadError(`${event.type} payload is not an array of rows`);
    }
    const objects = rows.map((row) => mapRawRow(kind, row)).filter((o) => o !== null);
    const { received, changed } = await this.projections.upsert(kind, objects, event.meta.inboxId);
    const skipped = rows.length - objects.length;
    const context = { eventId: event.meta.inboxId, type: event.type, rows: rows.length, received, changed, skipped };
    if (skipped > 0) this.logger.warn(context, `${event.type}: ${skipped} row(s) without a usable id skipped`);
    else this.logger.log(context, `${event.type}: ${changed} of ${received} object(s) changed`);
  }

  /**
   * `type` is not covered by Panora's signature: a `.deleted` may be any signed object relabelled.
   * It applies only when the object says it was deleted after the stored version was modified
   * (`deletionTime`), so a replay of data we already hold changes nothing and emits nothing.
   */
  @OnPanoraEvent(DELETED_TYPES, 'crm.projection.deleted')
  async onDeleted(event: PanoraWebhookEvent<PanoraCrmObject>): Promise<void> {
    const kind = kindOf(event.type);
    const object = mapUnifiedObject(kind, event.data);
    const context = { eventId: event.meta.inboxId, type: event.type };
    const deletedAt = deletionTime(event.data);
    if (deletedAt === null) {
      this.logger.warn(context, `${event.type} carries no modified_at or deletion time: not applied`);
      return;
    }
    if (!(await this.projections.markDeleted(kind, object, deletedAt, event.meta.inboxId))) {
      this.logger.log(
        context,
        `${event.type}: not newer than the stored version (or deleted already): nothing changed`,
      );
    }
  }
}

/** `crm.<kind>.<lifecycle>` → kind (the dispatcher only emits names we subscribed to). */
function kindOf(type: string): CrmKind {
  const kind = type.split('.')[1];
  if (!isCrmKind(kind)) throw new Error(`Not a CRM event type: ${type.slice(0, 80)}`);
  return kind;
}
