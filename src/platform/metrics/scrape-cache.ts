import type { Logger } from '@nestjs/common';

/**
 * One database read shared by the gauges of one scrape (collected together, within `shareMs`), and
 * null when the database does not answer: a scrape during an outage still answers, without them.
 */
export class ScrapeCache<T> {
  private cached?: { at: number; value: Promise<T | null> };

  constructor(
    private readonly read: () => Promise<T>,
    private readonly logger: Logger,
    private readonly what: string,
    private readonly shareMs = 100,
  ) {}

  get(): Promise<T | null> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > this.shareMs) {
      this.cached = {
        at: now,
        value: this.read().catch((error: unknown) => {
          this.logger.warn(`${this.what} unavailable: ${(error as Error).message}`);
          return null;
        }),
      };
    }
    return this.cached.value;
  }
}
