import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';

export type RejectionReason =
  | 'unknown_endpoint'
  | 'content_type'
  | 'body'
  | 'signature_missing'
  | 'signature_malformed'
  | 'signature_mismatch'
  | 'data'
  | 'duplicate';

const REPORT_EVERY_MS = 60_000;

/**
 * Counts deliveries and rejections by reason. A burst of rejections is summed into one log line a
 * minute (never one line per request: a flood of bad signatures must not flood the logs), which is
 * where a secret or signature-format drift shows first.
 */
@Injectable()
export class ReceiverStats implements OnModuleDestroy {
  private readonly logger = new Logger('WebhookReceiver');
  readonly accepted = new Map<string, number>();
  readonly rejected = new Map<RejectionReason, number>();
  private window = new Map<RejectionReason, number>();
  private readonly timer = setInterval(() => this.report(), REPORT_EVERY_MS).unref();

  accept(normalizedType: string): void {
    this.accepted.set(normalizedType, (this.accepted.get(normalizedType) ?? 0) + 1);
  }

  reject(reason: RejectionReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
    this.window.set(reason, (this.window.get(reason) ?? 0) + 1);
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
