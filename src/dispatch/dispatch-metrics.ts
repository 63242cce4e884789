import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { BoundedLabel, Metrics } from '../platform/metrics';

/** What the dispatcher settled for one event in a round. */
export interface DispatchOutcome {
  status: 'processed' | 'failed' | 'dead';
  receivedAt: Date;
  /** The listeners that ran in this round (not those that succeeded on an earlier attempt). */
  listeners: { name: string; status: string }[];
}

const MAX_LISTENER_LABELS = 100;
const RUN_OUTCOMES = ['succeeded', 'failed', 'dead'] as const;
type RunOutcome = (typeof RUN_OUTCOMES)[number];

/**
 * The dispatcher's metrics: processing lag of settled events, each listener run by outcome (so a
 * failure ratio is `failed / all` per listener), dead events.
 */
@Injectable()
export class DispatchMetrics {
  private readonly processingLag: Histogram<'outcome'>;
  private readonly listenerRuns: Counter<'listener' | 'outcome'>;
  private readonly deadEvents: Counter<'listener'>;
  private readonly listenerLabel = new BoundedLabel(MAX_LISTENER_LABELS);
  private readonly listenersSeen = new Set<string>();

  constructor(metrics: Metrics) {
    this.processingLag = metrics.histogram(
      'processing_lag_seconds',
      'Time from receipt to the end of processing (every listener done, or the event dead), by outcome',
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600],
      ['outcome'],
    );
    this.listenerRuns = metrics.counter(
      'listener_runs_total',
      'Listener runs by listener and outcome: succeeded, failed (retried later) or dead (failed on the last attempt, or permanently)',
      ['listener', 'outcome'],
    );
    this.deadEvents = metrics.counter(
      'dead_events_total',
      'Events that died after the last attempt, by failing listener',
      ['listener'],
    );
  }

  /** After the dispatcher recorded a round's outcomes. */
  eventsDispatched(outcomes: readonly DispatchOutcome[], now = Date.now()): void {
    for (const outcome of outcomes) {
      if (outcome.status !== 'failed') {
        this.processingLag.observe({ outcome: outcome.status }, Math.max(0, now - outcome.receivedAt.getTime()) / 1000);
      }
      for (const listener of outcome.listeners) {
        if (!isRunOutcome(listener.status)) continue;
        const label = this.listenerLabel.of(listener.name);
        this.seen(label);
        this.listenerRuns.inc({ listener: label, outcome: listener.status });
        if (listener.status === 'dead') this.deadEvents.inc({ listener: label });
      }
    }
  }

  /**
   * A listener's first run shows its three outcomes, at 0 until they happen: a failure ratio, or an
   * `increase()` alert on the first failure, needs the series before it.
   */
  private seen(listener: string): void {
    if (this.listenersSeen.has(listener)) return;
    this.listenersSeen.add(listener);
    for (const outcome of RUN_OUTCOMES) this.listenerRuns.inc({ listener, outcome }, 0);
  }
}

function isRunOutcome(status: string): status is RunOutcome {
  return (RUN_OUTCOMES as readonly string[]).includes(status);
}
