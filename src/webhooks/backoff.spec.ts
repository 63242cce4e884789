import { retryDelayMs } from './backoff';

describe(retryDelayMs.name, () => {
  it('should double per attempt, between half and all of the exponential delay', () => {
    expect(retryDelayMs(1, 1000, 1e9, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 1e9, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 1e9, () => 1)).toBe(8000);
  });

  it('should never exceed the maximum', () => {
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it('should spread the default eight attempts over about a day', () => {
    const base = 10 * 60_000;
    const total = [1, 2, 3, 4, 5, 6, 7].reduce(
      (sum, attempt) => sum + retryDelayMs(attempt, base, 12 * 3_600_000, () => 1),
      0,
    );
    expect(total / 3_600_000).toBeGreaterThan(18);
    expect(total / 3_600_000).toBeLessThan(30);
  });
});
