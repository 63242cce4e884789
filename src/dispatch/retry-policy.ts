import { backoffDelay } from '../platform/backoff';
import { SecretBoxError } from '../platform/secrets';
import type { ClaimedRow, OutcomeRecord } from './dispatch-queue.repository';
import type { ListenerRun } from './listener-run';
import { isPermanent, PermanentEventError } from './panora-event';

export interface Outcome extends OutcomeRecord {
  row: ClaimedRow;
  /** Dead at once: a listener failed in a way no retry can fix (PermanentEventError). */
  permanent: boolean;
}

export interface RetryOptions {
  /** WEBHOOK_MAX_ATTEMPTS, counted from the last replay. */
  maxAttempts: number;
  /** WEBHOOK_RETRY_BASE_MS. */
  retryBaseMs: number;
  /** WEBHOOK_RETRY_MAX_MS. */
  retryMaxMs: number;
}

const MAX_ERROR_LENGTH = 2_000;

/**
 * Processed when every listener succeeded. Otherwise dead when a listener failed permanently or
 * this was the last attempt since the event was received or last replayed (every listener that
 * failed is then dead too: nothing retries a dead event; a replay runs them all again), else
 * failed, retried after a backoff.
 */
export function decideOutcome(row: ClaimedRow, run: ListenerRun, options: RetryOptions): Outcome {
  const failed = run.failed.size > 0;
  const permanent = [...run.failed.values()].some(isPermanent);
  const attempt = row.attempts - row.attempts_at_replay;
  const dead = failed && (permanent || attempt >= options.maxAttempts);
  return {
    row,
    status: !failed ? 'processed' : dead ? 'dead' : 'failed',
    permanent,
    delayMs:
      failed && !dead
        ? backoffDelay(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs, jitter: 0.5 })
        : 0,
    lastError: failed
      ? [...run.failed]
          .map(
            ([name, error]) =>
              `${name}: ${errorText(error)}${isPermanent(error) ? ' (permanent: not retried; fix the cause, then replay)' : ''}`,
          )
          .join('\n')
          .slice(0, MAX_ERROR_LENGTH)
      : null,
    listeners: [
      ...[...run.succeeded].map((name) => ({ name, status: 'succeeded', error: null as string | null })),
      ...[...run.failed].map(([name, error]) => ({
        name,
        status: dead ? 'dead' : 'failed',
        error: errorText(error),
      })),
    ],
  };
}

/**
 * A payload that will not open. Tampered with or corrupted (it does not open with the key it names):
 * no retry can succeed, so it is permanent. Sealed under a key this instance lacks: retried, since
 * the key may be added (SECRETS_KEY_PREVIOUS) or another instance may hold it (a key rotation
 * rolling out); the reason names the key either way.
 */
export function payloadError(error: unknown): Error {
  const reason = `the stored payload cannot be opened: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof SecretBoxError && !/is not configured/.test(error.message)) {
    return new PermanentEventError(reason);
  }
  return new Error(
    error instanceof SecretBoxError ? `${reason}; retried until that key is configured on this instance` : reason,
  );
}

function errorText(error: Error): string {
  return (error.message || error.name).slice(0, 500);
}
