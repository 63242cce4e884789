import { Injectable, Logger, BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { outboxConfig, type OutboxConfig } from './outbox.config';

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
    @InjectDataSource() private readonly dataSource: DataSource,
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
        const [, deleted] = await this.dataSource.query<[unknown[], number]>(
          `DELETE FROM outbox_messages WHERE id IN (
             SELECT id FROM outbox_messages
             WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)
             LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [this.retentionHours, PRUNE_CHUNK],
        );
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
