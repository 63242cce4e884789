import { Injectable } from '@nestjs/common';
import { InboxRepository, InboxStatsRepository, type MinuteCount } from '../inbox';
import { OutboxRelay } from '../outbox';
import type { StatsDto } from './console.dto';

/** The overview's window: the last hour, a point a minute. */
export const WINDOW_MINUTES = 60;
const MINUTE_MS = 60_000;

/**
 * Received and processed counts of a minute that has ended no longer change: they are kept, so a
 * console polling every few seconds makes the database count only the current minute's rows (and
 * any minute ended since the last poll). Failed and dead are states that change: counted each time,
 * over the failed and dead rows only.
 */
class MinuteCache {
  private readonly counts = new Map<number, number>();
  /** Minutes before this one (epoch ms) are all in `counts` (zero when absent). */
  private completeUntil = 0;

  /** From when the database must count again. */
  from(windowStart: number): number {
    return Math.max(windowStart, this.completeUntil);
  }

  /** Stores what was counted from `from`: ended minutes are kept, the current one is not. */
  store(counted: MinuteCount[], from: number, currentMinute: number): void {
    for (const { minute, count } of counted) {
      if (minute.getTime() < currentMinute) this.counts.set(minute.getTime(), count);
    }
    if (from <= currentMinute) this.completeUntil = currentMinute;
    for (const minute of this.counts.keys())
      if (minute < currentMinute - WINDOW_MINUTES * MINUTE_MS) this.counts.delete(minute);
  }

  series(minutes: number[], current: MinuteCount[]): number[] {
    const now = new Map(current.map((c) => [c.minute.getTime(), c.count]));
    return minutes.map((m) => now.get(m) ?? this.counts.get(m) ?? 0);
  }
}

/** The figures behind the console's overview (GET /admin/stats). */
@Injectable()
export class ConsoleStatsService {
  private readonly received = new MinuteCache();
  private readonly processed = new MinuteCache();

  constructor(
    private readonly inboxStats: InboxStatsRepository,
    private readonly inbox: InboxRepository,
    private readonly relay: OutboxRelay,
  ) {}

  async stats(now = new Date()): Promise<StatsDto> {
    const currentMinute = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
    const windowStart = currentMinute - (WINDOW_MINUTES - 1) * MINUTE_MS;
    const minutes = Array.from({ length: WINDOW_MINUTES }, (_, i) => windowStart + i * MINUTE_MS);

    const receivedFrom = this.received.from(windowStart);
    const processedFrom = this.processed.from(windowStart);
    const [received, processed, failures, backlog, broker] = await Promise.all([
      this.inboxStats.receivedPerMinute(new Date(receivedFrom)),
      this.inboxStats.processedPerMinute(new Date(processedFrom)),
      this.inboxStats.failuresPerMinute(new Date(windowStart)),
      this.inbox.backlog(),
      this.relay.health(),
    ]);
    this.received.store(received, receivedFrom, currentMinute);
    this.processed.store(processed, processedFrom, currentMinute);
    const plain = (counts: MinuteCount[]) => new MinuteCache().series(minutes, counts);
    const count = (status: string) => backlog.inbox?.[status] ?? 0;
    return {
      generatedAt: now.toISOString(),
      minutes: minutes.map((m) => new Date(m).toISOString()),
      received: this.received.series(minutes, received),
      processed: this.processed.series(minutes, processed),
      failed: plain(failures.failed),
      dead: plain(failures.dead),
      backlog: {
        received: count('received'),
        processing: count('processing'),
        failed: count('failed'),
        dead: count('dead'),
        oldestPendingSeconds: backlog.oldest_s === null ? null : Math.round(backlog.oldest_s * 10) / 10,
      },
      broker: { status: broker.status, since: broker.since, ...(broker.error ? { error: broker.error } : {}) },
      outboxPending: broker.pending ?? null,
    };
  }
}
