/** PostgreSQL notification channel: `OutboxService.enqueue` notifies it, the relay listens. */
export const OUTBOX_CHANNEL = 'panora_webhooks_outbox';

/**
 * First key of the two-key advisory locks taken per entity key (`hashtext(entity_key)` is the
 * second). Enqueuers of one key take one, so a key's rows get ids in commit order; relays claiming
 * a key take the other, so two relays never split one key's rows between them.
 */
export const ENQUEUE_LOCK_SPACE = 0x0b05_0001;
export const CLAIM_LOCK_SPACE = 0x0b05_0002;
