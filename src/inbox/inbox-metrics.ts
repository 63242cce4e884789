import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Metrics, ScrapeCache } from '../platform/metrics';

interface Backlog {
  inbox: Record<string, number> | null;
  oldest_s: number | null;
}

const PENDING = ['received', 'processing', 'failed'] as const;

// Index scans of the status index: cheap while the backlog is small, bounded by it when it is not.
const BACKLOG_SQL = `
  SELECT
    (SELECT json_object_agg(status, n) FROM (
       SELECT status, count(*)::int AS n FROM webhook_events
        WHERE status IN ('received', 'processing', 'failed', 'dead') GROUP BY status) AS s) AS inbox,
    (SELECT extract(epoch FROM now() - received_at)::float8 FROM webhook_events
      WHERE status IN ('received', 'processing', 'failed') ORDER BY id LIMIT 1) AS oldest_s`;

/**
 * The inbox's gauges, read from the database at scrape time: its unfinished events by status and
 * the age of the oldest waiting one. They describe the shared database, so every instance reports
 * the same values (use `max`, not `sum`, across instances).
 */
@Injectable()
export class InboxMetrics {
  constructor(metrics: Metrics, @InjectDataSource() dataSource: DataSource) {
    const backlog = new ScrapeCache(
      async () => (await dataSource.query<Backlog[]>(BACKLOG_SQL))[0],
      new Logger(InboxMetrics.name),
      'Inbox backlog metrics',
    );
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
