export type { EventDetail, EventSummary, ReplayResult } from './events/events.dto';
export { installReceiver } from './receive/install-receiver';
export type { TestEventResult } from './test-events/test-event.dto';
export { WebhooksModule } from './webhooks.module';
export { InboxSignal } from './inbox-signal';
export { InboxWriter } from './inbox-writer.service';
export { INBOX_CHANNEL, InboxRepository } from './inbox.repository';
export { InboxStatsRepository } from './stats/inbox-stats.repository';
export type { DeadGroupRow, MinuteCount } from './stats/inbox-stats.repository';
