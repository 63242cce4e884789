import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '../../outbox';
import { PanoraModule } from '../../panora';
import { Connection } from './connection.entity';
import { connectionsConfig } from './connections.config';
import { ConnectionsController } from './connections.controller';
import { ConnectionsListener } from './connections.listener';
import { ConnectionsReconciler } from './connections.reconciler';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';

/** Catches connection tokens from `connection.created` and ties them to the app's end-users. */
@Module({
  imports: [TypeOrmModule.forFeature([Connection]), PanoraModule, OutboxModule],
  controllers: [ConnectionsController],
  providers: [
    connectionsConfig.provider,
    ConnectionsRepository,
    ConnectionsService,
    ConnectionsListener,
    ConnectionsReconciler,
  ],
  exports: [ConnectionsService, ConnectionsReconciler],
})
export class ConnectionsModule {}
