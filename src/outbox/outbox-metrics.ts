import { Injectable, Logger } from '@nestjs/common';
import type { Histogram } from 'prom-client';
import { Metrics, ScrapeCache } from '../platform/metrics';
import { OutboxRepository, type OutboxBacklog } from './outbox.repository';

/**
 * The outbox's metrics: the publish lag (commit to the broker's confirm), recorded by the relay,
 * and the backlog, read from the database at scrape time. The backlog describes the shared
 * database, so every instance reports the same values (use `max`, not `sum`, across instances).
 */
@Injectable()
export class OutboxMetrics {
  private readonly publishLag: Histogram;
  private readonly backlog: ScrapeCache<OutboxBacklog>;

  constructor(metrics: Metrics, outbox: OutboxRepository) {
    this.publishLag = metrics.histogram(
      'outbox_publish_lag_seconds',
      "Time from an outbox event's commit to the broker's confirm",
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    );
    this.backlog = new ScrapeCache(() => outbox.backlog(), new Logger(OutboxMetrics.name), 'Outbox backlog metrics');
    metrics.gauge(
      'outbox_pending_messages',
      'Outbox events not yet confirmed by the broker (whole database)',
      [],
      async (gauge) => {
        const backlog = await this.backlog.get();
        if (backlog) gauge.set(Number(backlog.pending));
      },
    );
    metrics.gauge(
      'outbox_oldest_pending_age_seconds',
      'Age of the oldest outbox event not yet confirmed by the broker; 0 when none waits',
      [],
      async (gauge) => {
        const backlog = await this.backlog.get();
        if (backlog) gauge.set(Math.max(0, backlog.oldest_s ?? 0));
      },
    );
  }

  /** When the broker confirmed an outbox row. */
  published(occurredAt: Date, now = Date.now()): void {
    this.publishLag.observe(Math.max(0, now - occurredAt.getTime()) / 1000);
  }
}
