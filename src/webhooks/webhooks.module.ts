import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RegistrationModule } from '../registration/registration.module';
import { DispatchQueueRepository } from './dispatch-queue.repository';
import { DispatcherService } from './dispatcher.service';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';
import { InboxWriter } from './inbox-writer.service';
import { InboxRetention } from './inbox-retention.service';
import { IngestService } from './ingest.service';
import { LargeDeliveryParser } from './large-delivery.parser';
import { PanoraSignatureGuard } from './panora-signature.guard';
import { ReceiverStats } from './receiver-stats.service';
import { TestEventController } from './test-event.controller';
import { TestEventService } from './test-event.service';
import { WebhookEventListener } from './webhook-event-listener.entity';
import { WebhookEvent } from './webhook-event.entity';
import { WebhooksController } from './webhooks.controller';

/**
 * Receives Panora's deliveries (verify, store, answer), dispatches them to the listeners of the
 * other modules as typed domain events, and lets admins inspect and replay them. Depends on the
 * registration module for endpoint secrets; nothing here imports the listening modules.
 */
@Module({
  imports: [DiscoveryModule, RegistrationModule, TypeOrmModule.forFeature([WebhookEvent, WebhookEventListener])],
  controllers: [WebhooksController, EventsController, TestEventController],
  providers: [
    PanoraSignatureGuard,
    LargeDeliveryParser,
    ReceiverStats,
    InboxWriter,
    IngestService,
    DispatchQueueRepository,
    DispatcherService,
    EventsService,
    InboxRetention,
    TestEventService,
  ],
  exports: [DispatcherService, ReceiverStats, InboxRetention],
})
export class WebhooksModule {}
