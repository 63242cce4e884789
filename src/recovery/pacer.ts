import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Spaces calls to Panora evenly: at most `perMinute` a minute (Panora allows 100 a minute per
 * client address, across all its routes). `pause` pushes the next turn back, after a 429.
 */
export class Pacer {
  private readonly spacingMs: number;
  private next = 0;

  constructor(
    perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.spacingMs = Math.ceil(60_000 / perMinute);
  }

  /** Waits for the next free slot and takes it; rejects (AbortError) when `signal` aborts first. */
  async turn(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.now();
    const at = Math.max(now, this.next);
    this.next = at + this.spacingMs;
    if (at > now) await sleep(at - now, undefined, { signal });
  }

  /** No call before `ms` from now. */
  pause(ms: number): void {
    this.next = Math.max(this.next, this.now() + ms);
  }
}
