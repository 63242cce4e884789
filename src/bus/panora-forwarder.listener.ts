import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OnPanoraEventBatch, type PanoraWebhookEvent } from '../webhooks/panora-event';
import { ALL_EVENT_TYPES } from '../webhooks/panora-event-types';
import { redactCredentials } from '../webhooks/payload-secrets';
import { OutboxService } from './outbox.service';

/**
 * Puts every known Panora event on the bus under its normalised type (`crm.company.created` for
 * a `crm.company.push` delivery, `ticketing.ticket.pulled`, …), for siblings that want Panora's
 * own events rather than this service's projections. Credentials are redacted: a connection token
 * never travels on the bus (siblings read it from GET /admin/connections/:id/token).
 */
@Injectable()
export class PanoraForwarder {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  @OnPanoraEventBatch([...ALL_EVENT_TYPES], 'bus.forward')
  async forward(events: PanoraWebhookEvent<unknown>[]): Promise<void> {
    await this.dataSource.transaction((manager) =>
      this.outbox.enqueue(
        manager,
        events.map((event) => ({
          // The same id each time this event is forwarded: a re-run after a crash (at-least-once
          // dispatch) writes nothing, instead of a second message consumers could not dedupe.
          id: stableUuid(`panora-event:${event.meta.endpointId}:${event.meta.idEvent}`),
          type: event.type,
          key: `panora-event:${event.meta.endpointId}:${event.meta.idEvent}`,
          occurredAt: event.meta.receivedAt,
          data: {
            idEvent: event.meta.idEvent,
            endpointId: event.meta.endpointId,
            deliveredType: event.meta.deliveredType,
            receivedAt: event.meta.receivedAt,
            payload: redactCredentials(event.data),
          },
        })),
      ),
    );
  }
}

/** A UUID (version 8, RFC 9562) derived from `text` with SHA-256. */
export function stableUuid(text: string): string {
  const bytes = createHash('sha256').update(text, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
