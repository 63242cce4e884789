import { Injectable } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { BoundedLabel, Metrics } from '../platform/metrics';

/** What the dispatcher settled for one event in a round. */
export interface DispatchOutcome {
  status: 'processed' | 'failed' | 'dead';
  receivedAt: Date;
  listeners: { name: string; status: string }[];
}

const MAX_LISTENER_LABELS = 100;

/** The dispatcher's metrics: processing lag of settled events, listener failures, dead events. */
@Injectable()
export class DispatchMetrics {
  private readonly processingLag: Histogram<'outcome'>;
  private readonly listenerFailures: Counter<'listener'>;
  private readonly deadEvents: Counter<'listener'>;
  private readonly listenerLabel = new BoundedLabel(MAX_LISTENER_LABELS);

  constructor(metrics: Metrics) {
    this.processingLag = metrics.histogram(
      'processing_lag_seconds',
      'Time from receipt to the end of processing (every listener done, or the event dead), by outcome',
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600],
      ['outcome'],
    );
    this.listenerFailures = metrics.counter(
      'listener_failures_total',
      'Listener runs that failed (retried later, or the event died), by listener',
      ['listener'],
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
        if (listener.status !== 'failed' && listener.status !== 'dead') continue;
        const label = this.listenerLabel.of(listener.name);
        this.listenerFailures.inc({ listener: label });
        if (listener.status === 'dead') this.deadEvents.inc({ listener: label });
      }
    }
  }
}
