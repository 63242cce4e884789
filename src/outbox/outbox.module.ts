import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TracingModule } from '../platform/tracing';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxContracts } from './outbox-contracts';
import { OutboxMetrics } from './outbox-metrics';
import { outboxConfig } from './outbox.config';
import { OutboxPruner } from './outbox-pruner.service';
import { OutboxRelay } from './outbox-relay.service';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';

/**
 * The event bus: the transactional outbox (`OutboxService.enqueue`, called by the listeners inside
 * their transactions) and the relay that publishes it to RabbitMQ. It knows no listener.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxMessage]), TracingModule],
  providers: [
    outboxConfig.provider,
    OutboxRepository,
    OutboxService,
    OutboxRelay,
    OutboxPruner,
    OutboxMetrics,
    OutboxContracts,
  ],
  exports: [OutboxService, OutboxRelay],
})
export class OutboxModule {}
