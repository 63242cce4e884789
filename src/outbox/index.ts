export { OutboxRelay } from './outbox-relay.service';
export { OutboxService } from './outbox.service';
export type { OutboxMessageInput } from './outbox.service';
export { OutboxModule } from './outbox.module';
