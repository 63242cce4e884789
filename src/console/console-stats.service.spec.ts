import type { InboxRepository, InboxStatsRepository, MinuteCount } from '../inbox';
import type { OutboxRelay } from '../outbox';
import { ConsoleStatsService } from './console-stats.service';

const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);

/** A fake inbox that answers counts from a list of (minute, count), and records from when it was asked. */
function fakes(received: MinuteCount[]) {
  const asked: Date[] = [];
  const stats = {
    receivedPerMinute: async (since: Date) => {
      asked.push(since);
      return received.filter((c) => c.minute.getTime() >= since.getTime());
    },
    processedPerMinute: async () => [],
    failuresPerMinute: async () => ({ failed: [], dead: [] }),
  } as unknown as InboxStatsRepository;
  const inbox = { backlog: async () => ({ inbox: { dead: 2 }, oldest_s: null }) } as unknown as InboxRepository;
  const relay = {
    health: async () => ({ status: 'up', exchange: 'x', since: '2026-11-23T05:00:00.000Z', pending: 0 }),
  } as unknown as OutboxRelay;
  return { service: new ConsoleStatsService(stats, inbox, relay), asked, received };
}

describe(ConsoleStatsService.name, () => {
  it('should answer 60 minutes, the current one last, with the counts at their minutes', async () => {
    const { service } = fakes([
      { minute: at('2026-11-23T05:10:00Z'), count: 4 },
      { minute: at('2026-11-23T05:20:00Z'), count: 1 },
    ]);
    const stats = await service.stats(at('2026-11-23T05:20:30Z'));
    expect(stats.minutes).toHaveLength(60);
    expect(stats.minutes[0]).toBe('2026-11-23T04:21:00.000Z');
    expect(stats.minutes[59]).toBe('2026-11-23T05:20:00.000Z');
    expect(stats.received[49]).toBe(4);
    expect(stats.received[59]).toBe(1);
    expect(stats.received.reduce((a, b) => a + b, 0)).toBe(5);
    expect(stats.backlog).toEqual({ received: 0, processing: 0, failed: 0, dead: 2, oldestPendingSeconds: null });
  });

  it('should ask the database only from the current minute once the window has been counted', async () => {
    const { service, asked, received } = fakes([{ minute: at('2026-11-23T05:10:00Z'), count: 4 }]);
    await service.stats(at('2026-11-23T05:20:30Z'));
    expect(asked.at(-1)).toEqual(at('2026-11-23T04:21:00Z'));

    received.push({ minute: at('2026-11-23T05:20:00Z'), count: 2 });
    const second = await service.stats(at('2026-11-23T05:20:50Z'));
    expect(asked.at(-1)).toEqual(at('2026-11-23T05:20:00Z'));
    // The ended minute is still there, from memory.
    expect(second.received[49]).toBe(4);
    expect(second.received[59]).toBe(2);

    // A minute later: the minute that just ended is counted once more, then kept.
    received.push({ minute: at('2026-11-23T05:21:00Z'), count: 3 });
    const third = await service.stats(new Date(at('2026-11-23T05:20:50Z').getTime() + MINUTE));
    expect(asked.at(-1)).toEqual(at('2026-11-23T05:20:00Z'));
    expect(third.received.slice(-3)).toEqual([0, 2, 3]);
    expect(third.received[48]).toBe(4);
  });
});
