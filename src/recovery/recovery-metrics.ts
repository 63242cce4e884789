import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { Metrics, ScrapeCache } from '../platform/metrics';
import { MISSED_STATUSES, RecoveryRepository } from './recovery.repository';

/** How a run ended, as the runs counter labels it (`busy`: another instance held the lock). */
export type RunLabel = 'completed' | 'partial' | 'failed' | 'busy';

/**
 * Recovery's metrics: the missed events by status (read from the database at scrape time: every
 * instance reports the same values, use `max` across instances) and this instance's runs by outcome.
 */
@Injectable()
export class RecoveryMetrics {
  private readonly runs: Counter<'outcome'>;

  constructor(metrics: Metrics, repository: RecoveryRepository) {
    const counts = new ScrapeCache(
      () => repository.countsByStatus(),
      new Logger(RecoveryMetrics.name),
      'Recovery metrics',
    );
    metrics.gauge(
      'recovery_missed_events',
      'Events Panora lists as sent to one of our endpoints that the inbox never received, by what recovery did: pending, recovered, published (recovery.event.missed), given_up, arrived_late (whole database)',
      ['status'],
      async (gauge) => {
        const read = await counts.get();
        if (!read) return;
        for (const status of MISSED_STATUSES) gauge.set({ status }, read[status]);
      },
    );
    this.runs = metrics.counter(
      'recovery_runs_total',
      'Recovery runs of this instance by outcome: completed, partial (some recovery left for the next run), failed (the walk of Panora events stopped short), busy (another instance was running)',
      ['outcome'],
    );
    for (const outcome of ['completed', 'partial', 'failed', 'busy'] as const) this.runs.inc({ outcome }, 0);
  }

  runEnded(outcome: RunLabel): void {
    this.runs.inc({ outcome });
  }
}
