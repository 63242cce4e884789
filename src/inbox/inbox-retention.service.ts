import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { inboxConfig, type InboxConfig } from './inbox.config';
import { InboxRepository } from './inbox.repository';

const EVERY_MS = 60 * 60_000;
const BATCH = 5_000;

/**
 * Keeps the inbox small: the payloads of events processed more than INBOX_RETENTION_DAYS ago are
 * dropped in batches. The rows themselves stay (their `id_event` still deduplicates a late
 * re-delivery, and the admin API still shows what happened).
 */
@Injectable()
export class InboxRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InboxRetention.name);
  private readonly days: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly inbox: InboxRepository,
    @inboxConfig.inject() config: InboxConfig,
  ) {
    this.days = config.retentionDays;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.prune().catch((e: Error) => this.logger.warn(`Inbox pruning failed: ${e.message}`)),
      EVERY_MS,
    );
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Drops the payloads past retention; answers how many were dropped. */
  prune(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.inbox.prunePayloads(this.days, BATCH);
      total += count;
      if (count < BATCH) break;
    }
    if (total > 0)
      this.logger.log({ pruned: total }, `Dropped the payloads of ${total} events older than ${this.days} days`);
    return total;
  }
}
