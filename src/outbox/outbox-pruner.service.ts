import { Injectable, Logger, BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { outboxConfig, type OutboxConfig } from './outbox.config';
import { OutboxRepository } from './outbox.repository';

const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Rows deleted per statement, so a large backlog never holds long locks. */
const PRUNE_CHUNK = 5_000;

/**
 * Deletes published outbox rows older than `OUTBOX_RETENTION_HOURS`: at start, then every ten
 * minutes. Unpublished rows are never deleted, however old.
 */
@Injectable()
export class OutboxPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxPruner.name);
  private readonly retentionHours: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    @outboxConfig.inject() config: OutboxConfig,
    private readonly outbox: OutboxRepository,
  ) {
    this.retentionHours = config.retentionHours;
  }

  onApplicationBootstrap(): void {
    void this.prune();
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes what is past retention; returns how many rows went. Never throws. */
  prune(): Promise<number> {
    this.running ??= this.deleteExpired().finally(() => (this.running = undefined));
    return this.running;
  }

  private async deleteExpired(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.outbox.prunePublished(this.retentionHours, PRUNE_CHUNK);
        total += deleted;
        if (deleted < PRUNE_CHUNK) break;
      }
      if (total > 0) this.logger.log(`Pruned ${total} published outbox rows older than ${this.retentionHours} h`);
    } catch (error) {
      this.logger.warn(`Outbox pruning failed, next try in 10 min: ${(error as Error).message}`);
    }
    return total;
  }
}
