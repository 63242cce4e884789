import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Why the receiver refused (or, for `duplicate`, did not store again) a delivery. */
export type RejectionReason =
  | 'unknown_endpoint'
  | 'content_type'
  | 'body'
  | 'size'
  | 'signature_missing'
  | 'signature_malformed'
  | 'signature_mismatch'
  | 'data'
  | 'duplicate';

export const REJECTION_REASONS: readonly RejectionReason[] = [
  'unknown_endpoint',
  'content_type',
  'body',
  'size',
  'signature_missing',
  'signature_malformed',
  'signature_mismatch',
  'data',
  'duplicate',
];

/** What the dispatcher settled for one event in a round. */
export interface DispatchOutcome {
  status: 'processed' | 'failed' | 'dead';
  receivedAt: Date;
  listeners: { name: string; status: string }[];
}

const PREFIX = 'panora_webhooks_';
/** Event types look like `crm.contact.created`; anything else is counted as `other`. */
const TYPE_LABEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$/;
/**
 * `type` is not covered by Panora's signature, so a replayed delivery could carry any type: the
 * distinct values a label takes are capped, beyond which they count as `other`.
 */
const MAX_TYPE_LABELS = 300;
const MAX_LISTENER_LABELS = 100;

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one, so
 * several apps in one process, as in tests, do not collide). Everything on the receive path is a
 * counter increment or a histogram observation: no I/O, no allocation beyond the label lookup.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly received = new Counter({
    name: `${PREFIX}deliveries_received_total`,
    help: 'Deliveries verified and stored, by endpoint id and normalised event type',
    labelNames: ['endpoint', 'type'] as const,
    registers: [this.registry],
  });

  private readonly rejected = new Counter({
    name: `${PREFIX}deliveries_rejected_total`,
    help: 'Deliveries refused (or duplicates not stored again), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly ingestDuration = new Histogram({
    name: `${PREFIX}ingest_duration_seconds`,
    help: 'Time from a delivery arriving to the answer (verified and committed for a 200), by HTTP status',
    labelNames: ['status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly processingLag = new Histogram({
    name: `${PREFIX}processing_lag_seconds`,
    help: 'Time from receipt to the end of processing (every listener done, or the event dead), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600],
    registers: [this.registry],
  });

  private readonly listenerFailures = new Counter({
    name: `${PREFIX}listener_failures_total`,
    help: 'Listener runs that failed (retried later, or the event died), by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  private readonly deadEvents = new Counter({
    name: `${PREFIX}dead_events_total`,
    help: 'Events that died after the last attempt, by failing listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  private readonly publishLag = new Histogram({
    name: `${PREFIX}outbox_publish_lag_seconds`,
    help: "Time from an outbox event's commit to the broker's confirm",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  private readonly panoraCalls = new Counter({
    name: `${PREFIX}panora_api_requests_total`,
    help: "Requests to Panora's management API, by route and HTTP status (timeout or network when no answer came)",
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly panoraDuration = new Histogram({
    name: `${PREFIX}panora_api_request_duration_seconds`,
    help: "Duration of requests to Panora's management API, by route",
    labelNames: ['route'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly typeLabels = new Set<string>();
  private readonly listenerLabels = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const reason of REJECTION_REASONS) this.rejected.inc({ reason }, 0);
  }

  /** Registers a gauge whose value is read at scrape time. */
  gauge(name: string, help: string, labelNames: readonly string[], collect: (gauge: Gauge) => Promise<void>): void {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        await collect(this);
      },
    });
  }

  deliveryReceived(endpointId: string, normalizedType: string): void {
    this.received.inc({ endpoint: endpointId, type: this.typeLabel(normalizedType) });
  }

  deliveryRejected(reason: RejectionReason): void {
    this.rejected.inc({ reason });
  }

  ingestAnswered(statusCode: number, milliseconds: number): void {
    this.ingestDuration.observe({ status: String(statusCode) }, milliseconds / 1000);
  }

  /** After the dispatcher recorded a round's outcomes. */
  eventsDispatched(outcomes: readonly DispatchOutcome[], now = Date.now()): void {
    for (const outcome of outcomes) {
      if (outcome.status !== 'failed') {
        this.processingLag.observe({ outcome: outcome.status }, Math.max(0, now - outcome.receivedAt.getTime()) / 1000);
      }
      for (const listener of outcome.listeners) {
        if (listener.status !== 'failed' && listener.status !== 'dead') continue;
        const label = this.listenerLabel(listener.name);
        this.listenerFailures.inc({ listener: label });
        if (listener.status === 'dead') this.deadEvents.inc({ listener: label });
      }
    }
  }

  /** When the broker confirmed an outbox row. */
  outboxPublished(occurredAt: Date, now = Date.now()): void {
    this.publishLag.observe(Math.max(0, now - occurredAt.getTime()) / 1000);
  }

  /** One HTTP attempt to Panora: `route` with ids as `:id`, `status` the HTTP status or `timeout` / `network`. */
  panoraCall(route: string, status: number | 'timeout' | 'network', milliseconds: number): void {
    this.panoraCalls.inc({ route, status: String(status) });
    this.panoraDuration.observe({ route }, milliseconds / 1000);
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private typeLabel(type: string): string {
    if (this.typeLabels.has(type)) return type;
    if (!TYPE_LABEL.test(type) || this.typeLabels.size >= MAX_TYPE_LABELS) return 'other';
    this.typeLabels.add(type);
    return type;
  }

  private listenerLabel(name: string): string {
    if (this.listenerLabels.has(name)) return name;
    if (this.listenerLabels.size >= MAX_LISTENER_LABELS) return 'other';
    this.listenerLabels.add(name);
    return name;
  }
}
