export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /** Share of the delay drawn at random (0–1), so instances do not retry in step. */
  jitter?: number;
  /** A number in [0, 1), `Math.random` by default. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: `baseMs * 2^(failures-1)`, capped at `maxMs`, of which up to
 * `jitter` is taken off at random. `failures` counts consecutive failures, starting at 1.
 */
export function backoffDelay(
  failures: number,
  { baseMs, maxMs, jitter = 0.2, random = Math.random }: BackoffOptions,
): number {
  const exponent = Math.max(0, Math.min(Math.floor(failures) - 1, 30));
  const delay = Math.min(maxMs, baseMs * 2 ** exponent);
  return Math.round(delay * (1 - jitter * random()));
}
