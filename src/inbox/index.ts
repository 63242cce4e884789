export type { EventDetail, EventSummary, ReplayResult } from './events/events.dto';
export { installReceiver } from './receive/install-receiver';
export type { TestEventResult } from './test-events/test-event.dto';
export { WebhooksModule } from './webhooks.module';
export { InboxSignal } from './inbox-signal';
export { INBOX_CHANNEL, InboxWriter } from './inbox-writer.service';
