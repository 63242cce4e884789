import { Pacer } from './pacer';

describe('Pacer', () => {
  it('should space calls evenly at the pace asked', async () => {
    const pacer = new Pacer(600); // one per 100 ms
    const started = Date.now();
    for (let i = 0; i < 4; i++) await pacer.turn();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1000);
  });

  it('should hold back after a pause', async () => {
    const pacer = new Pacer(60_000);
    pacer.pause(150);
    const started = Date.now();
    await pacer.turn();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('should stop waiting when aborted', async () => {
    const pacer = new Pacer(1); // one a minute
    await pacer.turn();
    const stop = new AbortController();
    const waiting = pacer.turn(stop.signal);
    stop.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
