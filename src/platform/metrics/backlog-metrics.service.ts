import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Metrics } from './metrics.service';

interface Backlog {
  outbox_pending: string;
  outbox_oldest_s: number | null;
  inbox: Record<string, number> | null;
  inbox_oldest_s: number | null;
}

/** The gauges of one scrape (collected together) share one query. */
const SHARE_MS = 100;
const PENDING = ['received', 'processing', 'failed'] as const;

// Each part is an index scan of a partial or status index: cheap while the backlogs are small,
// and bounded by the backlog (not the table) when they are not.
const BACKLOG_SQL = `
  SELECT
    (SELECT count(*) FROM outbox_messages WHERE published_at IS NULL) AS outbox_pending,
    (SELECT extract(epoch FROM now() - occurred_at)::float8 FROM outbox_messages
      WHERE published_at IS NULL ORDER BY seq LIMIT 1) AS outbox_oldest_s,
    (SELECT json_object_agg(status, n) FROM (
       SELECT status, count(*)::int AS n FROM webhook_events
        WHERE status IN ('received', 'processing', 'failed', 'dead') GROUP BY status) AS s) AS inbox,
    (SELECT extract(epoch FROM now() - received_at)::float8 FROM webhook_events
      WHERE status IN ('received', 'processing', 'failed') ORDER BY id LIMIT 1) AS inbox_oldest_s`;

/**
 * Gauges read from the database at scrape time: the outbox backlog and the inbox's unfinished
 * events. They describe the shared database, so every instance reports the same values (use
 * `max`, not `sum`, across instances).
 */
@Injectable()
export class BacklogMetrics implements OnModuleInit {
  private readonly logger = new Logger(BacklogMetrics.name);
  private cached?: { at: number; value: Promise<Backlog | null> };

  constructor(
    private readonly metrics: Metrics,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge(
      'outbox_pending_messages',
      'Outbox events not yet confirmed by the broker (whole database)',
      [],
      async (gauge) => {
        const backlog = await this.read();
        if (backlog) gauge.set(Number(backlog.outbox_pending));
      },
    );
    this.metrics.gauge(
      'outbox_oldest_pending_age_seconds',
      'Age of the oldest outbox event not yet confirmed by the broker; 0 when none waits',
      [],
      async (gauge) => {
        const backlog = await this.read();
        if (backlog) gauge.set(Math.max(0, backlog.outbox_oldest_s ?? 0));
      },
    );
    this.metrics.gauge(
      'inbox_events',
      'Stored events not processed yet, by status (received, processing, failed, dead; whole database)',
      ['status'],
      async (gauge) => {
        const backlog = await this.read();
        if (!backlog) return;
        for (const status of [...PENDING, 'dead']) gauge.set({ status }, backlog.inbox?.[status] ?? 0);
      },
    );
    this.metrics.gauge(
      'inbox_oldest_pending_age_seconds',
      'Age of the oldest stored event still waiting for its listeners (received, processing or failed); 0 when none',
      [],
      async (gauge) => {
        const backlog = await this.read();
        if (backlog) gauge.set(Math.max(0, backlog.inbox_oldest_s ?? 0));
      },
    );
  }

  /** One query per scrape; null when the database does not answer. */
  private read(): Promise<Backlog | null> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > SHARE_MS) {
      this.cached = {
        at: now,
        value: this.dataSource
          .query<Backlog[]>(BACKLOG_SQL)
          .then(([row]) => row)
          .catch((error: unknown) => {
            this.logger.warn(`Backlog metrics unavailable: ${(error as Error).message}`);
            return null;
          }),
      };
    }
    return this.cached.value;
  }
}
