import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { WebhooksModule } from '../inbox';
import { TracingModule } from '../platform/tracing';
import { DispatchMetrics } from './dispatch-metrics';
import { DispatchQueueRepository } from './dispatch-queue.repository';
import { dispatchConfig } from './dispatch.config';
import { DispatcherService } from './dispatcher.service';
import { ListenerRegistry } from './listener-registry';

/**
 * Works the inbox: claims stored events (the inbox row is the job), hands each to the listeners
 * declared with `@OnPanoraEvent` / `@OnPanoraEventBatch` in any module (found at start-up by the
 * ListenerRegistry), and records every listener's outcome, retrying with backoff or marking the
 * event dead. The listener modules depend on this module's decorators and event class; it depends
 * on none of them.
 */
@Module({
  imports: [DiscoveryModule, WebhooksModule, TracingModule],
  providers: [dispatchConfig.provider, DispatchMetrics, DispatchQueueRepository, ListenerRegistry, DispatcherService],
  exports: [DispatcherService],
})
export class DispatchModule {}
