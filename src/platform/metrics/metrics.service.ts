import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { serviceVersion } from './build-info';

/** Every metric of the service is named `panora_webhooks_<name>`. */
export const METRIC_PREFIX = 'panora_webhooks_';

/**
 * The service's Prometheus registry (`GET /metrics`), its own rather than prom-client's global one
 * (several apps in one process, as in tests, do not collide). It defines no metric of a stage:
 * each module registers its own instruments here (the receiver's in inbox/, the dispatcher's in
 * dispatch/, the outbox's in outbox/, the Panora client's in panora/). Instruments are counters,
 * histograms and gauges read at scrape time; recording is a label lookup and an increment.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // The usual `*_build_info` join target: which version (and Node) each instance runs, always 1.
    new Gauge({
      name: `${METRIC_PREFIX}build_info`,
      help: 'Always 1; the labels say which version of the service and of Node.js this instance runs',
      labelNames: ['version', 'node'],
      registers: [this.registry],
    }).set({ version: serviceVersion(), node: process.versions.node }, 1);
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
