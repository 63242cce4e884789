import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxMessage } from './outbox-message.entity';
import { OutboxPruner } from './outbox-pruner.service';
import { OutboxRelay } from './outbox-relay.service';
import { OutboxService } from './outbox.service';
import { PanoraForwarder } from './panora-forwarder.listener';

/**
 * The event bus: the transactional outbox (`OutboxService.enqueue`, called by the connections and
 * crm listeners inside their transactions) and the relay that publishes it to RabbitMQ.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxMessage])],
  providers: [OutboxService, OutboxRelay, OutboxPruner, PanoraForwarder],
  exports: [OutboxService, OutboxRelay],
})
export class BusModule {}
