import { Module } from '@nestjs/common';
import { WebhooksModule } from '../inbox';
import { OutboxModule } from '../outbox';
import { ConsoleAdminController, ConsoleEventsController } from './console-admin.controller';
import { ConsolePageController } from './console-page.controller';
import { ConsoleStatsService } from './console-stats.service';

/**
 * The operator console (docs/console.md): its page at /console, built from console/ by
 * `npm run build`, and the admin routes it needs beyond the rest of the admin API (who am I, the
 * overview's per-minute figures, the dead events grouped).
 */
@Module({
  imports: [WebhooksModule, OutboxModule],
  controllers: [ConsolePageController, ConsoleAdminController, ConsoleEventsController],
  providers: [ConsoleStatsService],
})
export class ConsoleModule {}
