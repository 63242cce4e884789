import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { BoundedLabel, Metrics } from '../../platform/metrics';

/** Why the receiver refused a delivery (a duplicate is not refused: see ReceiverStats.duplicate). */
export type RejectionReason =
  | 'unknown_endpoint'
  | 'content_type'
  | 'body'
  | 'size'
  | 'signature_missing'
  | 'signature_malformed'
  | 'signature_mismatch'
  | 'data';

export const REJECTION_REASONS: readonly RejectionReason[] = [
  'unknown_endpoint',
  'content_type',
  'body',
  'size',
  'signature_missing',
  'signature_malformed',
  'signature_mismatch',
  'data',
];

/** Event types look like `crm.contact.created`; anything else is counted as `other`. */
const TYPE_LABEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$/;
/**
 * `type` is not covered by Panora's signature, so a replayed delivery could carry any type: the
 * distinct values a label takes are capped, beyond which they count as `other`.
 */
const MAX_TYPE_LABELS = 300;

const REPORT_EVERY_MS = 60_000;

/**
 * Counts deliveries, duplicates and rejections by reason, in the Prometheus metrics (`GET /metrics`)
 * and in the log: a burst of rejections is summed into one log line a minute (never one line per
 * request: a flood of bad signatures must not flood the logs), which is where a secret or
 * signature-format drift shows first. Duplicates are answered 200 and are normal (Panora resends
 * what it thinks was lost; a resend after a dropped connection): counted apart from rejections so
 * they never raise a rejection alert, and summed at debug only.
 */
@Injectable()
export class ReceiverStats implements OnModuleDestroy {
  private readonly logger = new Logger('WebhookReceiver');
  private window = new Map<RejectionReason, number>();
  private duplicatesInWindow = 0;
  private readonly timer = setInterval(() => this.report(), REPORT_EVERY_MS).unref();
  private readonly received: Counter<'endpoint' | 'type'>;
  private readonly duplicates: Counter<'endpoint'>;
  private readonly rejected: Counter<'reason'>;
  private readonly ingestDuration: Histogram<'code'>;
  private readonly typeLabel = new BoundedLabel(MAX_TYPE_LABELS, (type) => TYPE_LABEL.test(type));

  constructor(metrics: Metrics) {
    this.received = metrics.counter(
      'deliveries_received_total',
      'Deliveries verified and stored, by endpoint id and normalised event type',
      ['endpoint', 'type'],
    );
    this.duplicates = metrics.counter(
      'deliveries_duplicate_total',
      'Deliveries answered 200 without being stored again (their id_event or signed text is already stored), by endpoint id',
      ['endpoint'],
    );
    this.rejected = metrics.counter(
      'deliveries_rejected_total',
      'Deliveries refused (answered 4xx, not stored), by reason',
      ['reason'],
    );
    for (const reason of REJECTION_REASONS) this.rejected.inc({ reason }, 0);
    this.ingestDuration = metrics.histogram(
      'ingest_duration_seconds',
      'Time from a delivery arriving to the answer (verified and committed for a 200), by HTTP status code',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ['code'],
    );
  }

  accept(endpointId: string, normalizedType: string): void {
    this.received.inc({ endpoint: endpointId, type: this.typeLabel.of(normalizedType) });
  }

  /** A verified delivery already stored: answered 200, not stored again. */
  duplicate(endpointId: string): void {
    this.duplicates.inc({ endpoint: endpointId });
    this.duplicatesInWindow++;
  }

  reject(reason: RejectionReason): void {
    this.rejected.inc({ reason });
    this.window.set(reason, (this.window.get(reason) ?? 0) + 1);
  }

  /** Every answer of the receive route, with the time it took. */
  answered(statusCode: number, milliseconds: number): void {
    this.ingestDuration.observe({ code: String(statusCode) }, milliseconds / 1000);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.report();
  }

  private report(): void {
    if (this.duplicatesInWindow > 0) {
      this.logger.debug(
        { duplicates: this.duplicatesInWindow },
        `Duplicate deliveries in the last minute (answered 200, not stored again): ${this.duplicatesInWindow}`,
      );
      this.duplicatesInWindow = 0;
    }
    if (this.window.size === 0) return;
    const counts = Object.fromEntries(this.window);
    this.window = new Map();
    const suspicious =
      (counts.signature_mismatch ?? 0) + (counts.signature_malformed ?? 0) + (counts.signature_missing ?? 0);
    const message = `Rejected deliveries in the last minute: ${JSON.stringify(counts)}`;
    if (suspicious > 0) this.logger.warn({ rejected: counts }, message);
    else this.logger.log({ rejected: counts }, message);
  }
}
