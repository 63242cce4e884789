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
