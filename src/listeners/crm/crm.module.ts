import { Module } from '@nestjs/common';
import { OutboxModule } from '../../outbox';
import { CrmController } from './crm.controller';
import { CrmListener } from './crm.listener';
import { CrmProjectionService } from './crm-projection.service';
import { CrmQueryService } from './crm-query.service';
import { CrmRepository } from './crm.repository';

/**
 * CRM projections: listens to Panora's `crm.*` events, keeps one row per object in
 * `crm_objects`, announces each change on the bus (`crm.<kind>.upserted` / `.deleted`, through
 * the outbox) and serves the projections on `/admin/crm`.
 */
@Module({
  imports: [OutboxModule],
  controllers: [CrmController],
  exports: [CrmProjectionService],
  providers: [CrmRepository, CrmListener, CrmProjectionService, CrmQueryService],
})
export class CrmModule {}
