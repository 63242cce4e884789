import { Injectable } from '@nestjs/common';

/**
 * "The inbox has work": said in this process when a delivery commits or an admin replays events,
 * so the dispatcher of this instance starts a round at once instead of waiting for PostgreSQL's
 * notification (other instances get that notification; the inbox insert sends it). The inbox
 * knows nothing of who listens: the dispatch stage subscribes.
 */
@Injectable()
export class InboxSignal {
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` on every `notify()` until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    for (const listener of this.listeners) listener();
  }
}
