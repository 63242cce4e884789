import { ConnectionsErrorCode, ConnectionsException, type ConnectionsReconciler } from '../listeners/connections';
import { PanoraApiError } from '../panora';
import type { Pacer } from './pacer';

/** What the recovery half of a run did with the pending missed events. */
export interface RecoveryCounts {
  recovered: number;
  published: number;
  givenUp: number;
  /** Attempts that failed (Panora down, rate-limited, reconciliation busy): those events stay pending. */
  failed: number;
  /** CRM objects read back from Panora's unified lists, and the projection rows they changed. */
  objectsRead: number;
  objectsChanged: number;
  /** Objects Panora returned that the projection cannot read (logged, left out). */
  objectsSkipped: number;
}

/** How long to hold back after a 429 that gave no Retry-After. */
const RATE_LIMITED_PAUSE_MS = 60_000;

/**
 * One run's shared state: the pace of its calls to Panora, the shutdown signal, the one
 * reconciliation it may trigger, the connections Panora refused, and what it did.
 */
export class RecoveryRun {
  readonly counts: RecoveryCounts = {
    recovered: 0,
    published: 0,
    givenUp: 0,
    failed: 0,
    objectsRead: 0,
    objectsChanged: 0,
    objectsSkipped: 0,
  };
  /** Why attempts failed, for the run's error (a few; the events hold each their own). */
  readonly errors: string[] = [];
  /** Connections whose token Panora refused, with the reason. */
  readonly refused = new Map<string, string>();
  /** Panora answered 429 even after the client's retries: no more calls this run. */
  rateLimited = false;
  /** Undefined until reconciled; then null (done) or why it could not run. */
  private reconciled?: Promise<string | null>;

  constructor(
    readonly pacer: Pacer,
    readonly signal: AbortSignal,
  ) {}

  /** Takes note of a failed attempt (and of a 429: Panora is left alone for the rest of the run). */
  failed(error: unknown, events: number): string {
    const message = messageOf(error);
    this.counts.failed += events;
    if (this.errors.length < 5 && !this.errors.includes(message)) this.errors.push(message);
    if (error instanceof PanoraApiError && error.status === 429) {
      this.rateLimited = true;
      this.pacer.pause(error.retryAfterMs ?? RATE_LIMITED_PAUSE_MS);
    }
    return message;
  }

  /**
   * Reconciles the connections with Panora once per run, whoever asks first. Answers null when it
   * ran, or why it could not (another instance reconciling, Panora failing): try again next run.
   */
  reconcileOnce(reconciler: ConnectionsReconciler): Promise<string | null> {
    this.reconciled ??= (async () => {
      try {
        await this.pacer.turn(this.signal);
        await reconciler.reconcile();
        return null;
      } catch (error) {
        if (error instanceof ConnectionsException && error.code === ConnectionsErrorCode.ReconcileBusy) {
          return 'Another instance is reconciling the connections right now: left to the next run';
        }
        if (this.signal.aborted) throw error;
        if (error instanceof PanoraApiError && error.status === 429) {
          this.rateLimited = true;
          this.pacer.pause(error.retryAfterMs ?? RATE_LIMITED_PAUSE_MS);
        }
        return `Reconciling the connections with Panora failed: ${messageOf(error)}`;
      }
    })();
    return this.reconciled;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof PanoraApiError ? error.answer : ((error as Error)?.message ?? String(error));
}
