import { Module } from '@nestjs/common';
import { RegistrationModule } from '../endpoints';
import { WebhooksModule } from '../inbox';
import { ConnectionsModule } from '../listeners/connections';
import { CrmModule } from '../listeners/crm';
import { OutboxModule } from '../outbox';
import { PanoraModule } from '../panora';
import { CrmRereader } from './crm-reread';
import { recoveryConfig } from './recovery.config';
import { RecoveryController } from './recovery.controller';
import { RecoveryRepository } from './recovery.repository';
import { RecoveryDetector } from './recovery-detector';
import { RecoveryMetrics } from './recovery-metrics';
import { RecoveryRecoverer } from './recovery-recoverer';
import { RecoveryService } from './recovery.service';

/**
 * Recovery of missed events (issue 15): finds the webhooks Panora sent that never arrived, in its
 * GET /events, and makes them good through the connections' and CRM's own paths, or tells the bus.
 */
@Module({
  imports: [PanoraModule, RegistrationModule, WebhooksModule, OutboxModule, ConnectionsModule, CrmModule],
  controllers: [RecoveryController],
  providers: [
    recoveryConfig.provider,
    RecoveryRepository,
    RecoveryMetrics,
    RecoveryDetector,
    CrmRereader,
    RecoveryRecoverer,
    RecoveryService,
  ],
})
export class RecoveryModule {}
