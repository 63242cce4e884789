import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric of the service is named `panora_webhooks_<name>`. */
export const METRIC_PREFIX = 'panora_webhooks_';

/**
 * The service's Prometheus registry (`GET /metrics`), its own rather than prom-client's global one
 * (several apps in one process, as in tests, do not collide). It defines no metric of a stage:
 * each module registers its own instruments here (the receiver's in inbox/, the dispatcher's in
 * dispatch/, the outbox's in outbox/, the Panora client's in panora/). Instruments are counters,
 * histograms and gauges read at scrape time; recording is a label lookup and an increment.
 */
/** What the dispatcher settled for one event in a round. */
export interface DispatchOutcome {
  status: 'processed' | 'failed' | 'dead';
  receivedAt: Date;
  listeners: { name: string; status: string }[];
}

@Injectable()
export class Metrics {
  readonly registry = new Registry();
  // TODO(issue 14): the dispatcher's instruments move to dispatch/ with its listener registry.
  private readonly processingLag: Histogram<'outcome'>;
  private readonly listenerFailures: Counter<'listener'>;
  private readonly deadEvents: Counter<'listener'>;
  private readonly listenerLabel = new BoundedLabel(100);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.processingLag = this.histogram(
      'processing_lag_seconds',
      'Time from receipt to the end of processing (every listener done, or the event dead), by outcome',
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600],
      ['outcome'],
    );
    this.listenerFailures = this.counter(
      'listener_failures_total',
      'Listener runs that failed (retried later, or the event died), by listener',
      ['listener'],
    );
    this.deadEvents = this.counter(
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

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: readonly L[] = [],
  ): Histogram<L> {
    return new Histogram({ name: `${METRIC_PREFIX}${name}`, help, labelNames, buckets, registers: [this.registry] });
  }

  /** A gauge whose value is read at scrape time. */
  gauge(name: string, help: string, labelNames: readonly string[], collect: (gauge: Gauge) => Promise<void>): void {
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        await collect(this);
      },
    });
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * A label whose values come from outside (an event type is not covered by Panora's signature, so a
 * replayed delivery could carry any): the first `max` distinct values that pass `accept` are kept,
 * everything else counts as `other`, so no sender can grow the series without bound.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly accept: (value: string) => boolean = () => true,
  ) {}

  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (!this.accept(value) || this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}
