import { Injectable, Logger } from '@nestjs/common';
import { Metrics, ScrapeCache } from '../platform/metrics';
import { InboxRepository } from './inbox.repository';

const PENDING = ['received', 'processing', 'failed'] as const;

/**
 * The inbox's gauges, read from the database at scrape time: its unfinished events by status and
 * the age of the oldest waiting one. They describe the shared database, so every instance reports
 * the same values (use `max`, not `sum`, across instances).
 */
@Injectable()
export class InboxMetrics {
  constructor(metrics: Metrics, inbox: InboxRepository) {
    const backlog = new ScrapeCache(() => inbox.backlog(), new Logger(InboxMetrics.name), 'Inbox backlog metrics');
    metrics.gauge(
      'inbox_events',
      'Stored events not processed yet, by status (received, processing, failed, dead; whole database)',
      ['status'],
      async (gauge) => {
        const read = await backlog.get();
        if (!read) return;
        for (const status of [...PENDING, 'dead']) gauge.set({ status }, read.inbox?.[status] ?? 0);
      },
    );
    metrics.gauge(
      'inbox_oldest_pending_age_seconds',
      'Age of the oldest stored event still waiting for its listeners (received, processing or failed); 0 when none',
      [],
      async (gauge) => {
        const read = await backlog.get();
        if (read) gauge.set(Math.max(0, read.oldest_s ?? 0));
      },
    );
  }
}
