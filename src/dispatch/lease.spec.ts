import type { LoggerService } from '@nestjs/common';
import type { Claim } from './dispatch-queue.repository';
import { keepLease } from './lease';

const claims: Claim[] = [
  { id: '1', claimId: 'a' },
  { id: '2', claimId: 'b' },
];

const logger = () => {
  const warn = jest.fn();
  return { logger: { log: jest.fn(), error: jest.fn(), warn } as LoggerService, warn };
};

describe(keepLease.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should renew every third of the lease, and stop renewing an event whose lease was lost', async () => {
    const { logger: log, warn } = logger();
    const renew = jest.fn<Promise<{ id: string }[]>, [Claim[]]>().mockResolvedValue([{ id: '1' }]);
    const lease = keepLease(claims, 300, renew, log);

    await jest.advanceTimersByTimeAsync(100);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(renew.mock.calls[0][0]).toEqual(claims);
    expect(warn).toHaveBeenCalledWith(
      { eventIds: ['2'] },
      'Lost the lease of 1 event(s) of this round (taken over or replayed meanwhile): their outcomes will not be recorded by this instance',
    );

    await jest.advanceTimersByTimeAsync(100);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(renew.mock.calls[1][0]).toEqual([claims[0]]);
    expect(warn).toHaveBeenCalledTimes(1);

    await lease.stop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(renew).toHaveBeenCalledTimes(2);
  });

  it('should run one renewal at a time, and have stop() wait for the one under way', async () => {
    const { logger: log } = logger();
    let finish!: (kept: { id: string }[]) => void;
    const renew = jest.fn(() => new Promise<{ id: string }[]>((resolve) => (finish = resolve)));
    const lease = keepLease(claims, 300, renew, log);

    await jest.advanceTimersByTimeAsync(500);
    expect(renew).toHaveBeenCalledTimes(1);

    let stopped = false;
    const stopping = lease.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish([{ id: '1' }, { id: '2' }]);
    await stopping;
    expect(stopped).toBe(true);
  });

  it('should log a failed renewal and try again at the next tick', async () => {
    const { logger: log, warn } = logger();
    const renew = jest
      .fn<Promise<{ id: string }[]>, [Claim[]]>()
      .mockRejectedValueOnce(new Error('connection terminated'))
      .mockResolvedValue([{ id: '1' }, { id: '2' }]);
    const lease = keepLease(claims, 300, renew, log);

    await jest.advanceTimersByTimeAsync(100);
    expect(warn).toHaveBeenCalledWith('Could not renew the lease of a dispatch round: connection terminated');
    await jest.advanceTimersByTimeAsync(100);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(renew.mock.calls[1][0]).toEqual(claims);
    expect(warn).toHaveBeenCalledTimes(1);
    await lease.stop();
  });
});
