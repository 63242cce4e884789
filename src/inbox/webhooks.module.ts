import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RegistrationModule } from '../endpoints';
import { EventStream } from './events/event-stream.service';
import { EventsController } from './events/events.controller';
import { EventsService } from './events/events.service';
import { inboxConfig } from './inbox.config';
import { InboxMetrics } from './inbox-metrics';
import { InboxRepository } from './inbox.repository';
import { InboxSignal } from './inbox-signal';
import { InboxWriter } from './inbox-writer.service';
import { InboxRetention } from './inbox-retention.service';
import { IngestService } from './receive/ingest.service';
import { LargeDeliveryParser } from './receive/large-delivery.parser';
import { PanoraSignatureGuard } from './receive/panora-signature.guard';
import { ReceiverStats } from './receive/receiver-stats.service';
import { InboxStatsRepository } from './stats/inbox-stats.repository';
import { TestEventController } from './test-events/test-event.controller';
import { TestEventService } from './test-events/test-event.service';
import { WebhookEventListener } from './webhook-event-listener.entity';
import { WebhookEvent } from './webhook-event.entity';
import { WebhooksController } from './receive/webhooks.controller';

/**
 * The inbox: receives Panora's deliveries (verify, store, answer), sends test events, lets admins
 * inspect, replay and prune the stored events. Depends on the registration module for endpoint
 * secrets; the dispatch stage works its rows, and nothing here imports it or the listeners.
 */
@Module({
  imports: [RegistrationModule, TypeOrmModule.forFeature([WebhookEvent, WebhookEventListener])],
  controllers: [WebhooksController, EventsController, TestEventController],
  providers: [
    inboxConfig.provider,
    InboxRepository,
    PanoraSignatureGuard,
    LargeDeliveryParser,
    ReceiverStats,
    InboxSignal,
    InboxMetrics,
    InboxWriter,
    IngestService,
    EventsService,
    EventStream,
    InboxRetention,
    TestEventService,
    InboxStatsRepository,
  ],
  exports: [InboxWriter, InboxSignal, ReceiverStats, InboxRetention, InboxRepository, InboxStatsRepository],
})
export class WebhooksModule {}
