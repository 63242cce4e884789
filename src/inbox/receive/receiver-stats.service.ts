import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Metrics, type RejectionReason } from '../../platform/metrics';

export type { RejectionReason };

const REPORT_EVERY_MS = 60_000;

/**
 * Counts deliveries and rejections by reason, in the Prometheus metrics (`GET /metrics`) and in
 * the log: a burst of rejections is summed into one log line a minute (never one line per request:
 * a flood of bad signatures must not flood the logs), which is where a secret or signature-format
 * drift shows first.
 */
@Injectable()
export class ReceiverStats implements OnModuleDestroy {
  private readonly logger = new Logger('WebhookReceiver');
  private window = new Map<RejectionReason, number>();
  private readonly timer = setInterval(() => this.report(), REPORT_EVERY_MS).unref();

  constructor(private readonly metrics: Metrics) {}

  accept(endpointId: string, normalizedType: string): void {
    this.metrics.deliveryReceived(endpointId, normalizedType);
  }

  reject(reason: RejectionReason): void {
    this.metrics.deliveryRejected(reason);
    this.window.set(reason, (this.window.get(reason) ?? 0) + 1);
  }

  /** Every answer of the receive route, with the time it took. */
  answered(statusCode: number, milliseconds: number): void {
    this.metrics.ingestAnswered(statusCode, milliseconds);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.report();
  }

  private report(): void {
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
