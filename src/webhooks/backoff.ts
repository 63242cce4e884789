/**
 * Exponential backoff with "equal jitter": the delay doubles per attempt up to `maxMs`, and a
 * random half of it is added so retries of many events do not arrive together.
 * With the defaults (10 min base, 8 attempts) the retries span about 21 hours.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
