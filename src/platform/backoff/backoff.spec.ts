import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  const noJitter = { baseMs: 500, maxMs: 30_000, jitter: 0 };

  it('should double from the base delay per consecutive failure', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, noJitter))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it('should never exceed the maximum, even after very many failures', () => {
    expect(backoffDelay(7, noJitter)).toBe(30_000);
    expect(backoffDelay(10_000, noJitter)).toBe(30_000);
  });

  it('should treat zero or negative failure counts as the first failure', () => {
    expect(backoffDelay(0, noJitter)).toBe(500);
    expect(backoffDelay(-3, noJitter)).toBe(500);
  });

  it('should take up to the jitter share off at random', () => {
    const options = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };
    expect(backoffDelay(1, { ...options, random: () => 0 })).toBe(1000);
    expect(backoffDelay(1, { ...options, random: () => 0.5 })).toBe(900);
    expect(backoffDelay(1, { ...options, random: () => 0.999_999 })).toBe(800);
  });

  it('should stay within [delay * (1 - jitter), delay] with the real random source', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(3, { baseMs: 1000, maxMs: 60_000, jitter: 0.25 });
      expect(delay).toBeGreaterThanOrEqual(3000);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });

  it('should spread the default eight listener attempts over about a day', () => {
    const options = { baseMs: 10 * 60_000, maxMs: 12 * 3_600_000, jitter: 0.5, random: () => 0 };
    const hours = [1, 2, 3, 4, 5, 6, 7].reduce((sum, attempt) => sum + backoffDelay(attempt, options), 0) / 3_600_000;
    expect(hours).toBeGreaterThan(18);
    expect(hours).toBeLessThan(30);
  });
});
