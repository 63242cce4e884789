import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { WebhooksModule } from '../inbox';
import { OutboxModule } from '../outbox';
import { HealthController } from './health.controller';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), OutboxModule, WebhooksModule],
  controllers: [HealthController, StatusController],
  providers: [StatusService],
})
export class HealthModule {}
