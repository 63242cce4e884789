import { Injectable, Logger } from '@nestjs/common';
import type { Histogram } from 'prom-client';
import { Metrics, ScrapeCache } from '../platform/metrics';
import { OutboxRepository, type OutboxBacklog } from './outbox.repository';

/**
 * The outbox's metrics: the publish lag (commit to the broker's confirm) and the broker's state,
 * recorded by the relay, and the backlog, read from the database at scrape time. The backlog
 * describes the shared database, so every instance reports the same values (use `max`, not `sum`,
 * across instances); the broker's state is this instance's connection.
 */
@Injectable()
export class OutboxMetrics {
  private readonly publishLag: Histogram;
  private readonly backlog: ScrapeCache<OutboxBacklog>;
  private brokerUp?: boolean;

  constructor(
    private readonly metrics: Metrics,
    outbox: OutboxRepository,
  ) {
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

  /**
   * The relay's broker status. `broker_up` appears with the first status the relay reports, that
   * is only when RABBITMQ_URL is set: absent, not 0, on an instance with the relay off, so
   * `broker_up == 0` alerts only on a broker that should be there.
   */
  brokerStatus(status: 'up' | 'down' | 'disabled'): void {
    if (status === 'disabled') return;
    if (this.brokerUp === undefined) {
      this.metrics.gauge(
        'broker_up',
        "1 while this instance's outbox relay is connected to RabbitMQ, 0 while it is not (absent when RABBITMQ_URL is unset)",
        [],
        async (gauge) => {
          gauge.set(this.brokerUp ? 1 : 0);
        },
      );
    }
    this.brokerUp = status === 'up';
  }

  /** When the broker confirmed an outbox row. */
  published(occurredAt: Date, now = Date.now()): void {
    this.publishLag.observe(Math.max(0, now - occurredAt.getTime()) / 1000);
  }
}
