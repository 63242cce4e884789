import { BoundedLabel, Metrics } from './metrics.service';

const series = async (metrics: Metrics, name: string) =>
  (await metrics.scrape()).split('\n').filter((line) => line.startsWith(`${name}{`));

describe(Metrics.name, () => {
  it('should name every instrument with the service prefix, in its own registry', async () => {
    const metrics = new Metrics();
    metrics.counter('things_total', 'Things', ['kind']).inc({ kind: 'a' });
    metrics.gauge('depth', 'Depth', [], async (gauge) => gauge.set(3));
    const text = await metrics.scrape();
    expect(text).toContain('panora_webhooks_things_total{kind="a"} 1');
    expect(text).toContain('panora_webhooks_depth 3');
    expect(await new Metrics().scrape()).not.toContain('panora_webhooks_things_total');
  });

  it('should count failed and dead listeners and observe the lag of settled events only', async () => {
    const metrics = new Metrics();
    const now = Date.now();
    metrics.eventsDispatched(
      [
        { status: 'processed', receivedAt: new Date(now - 2_000), listeners: [{ name: 'a', status: 'succeeded' }] },
        { status: 'failed', receivedAt: new Date(now - 1_000), listeners: [{ name: 'b', status: 'failed' }] },
        {
          status: 'dead',
          receivedAt: new Date(now - 60_000),
          listeners: [
            { name: 'a', status: 'succeeded' },
            { name: 'b', status: 'dead' },
          ],
        },
      ],
      now,
    );
    expect(await series(metrics, 'panora_webhooks_listener_failures_total')).toEqual([
      'panora_webhooks_listener_failures_total{listener="b"} 2',
    ]);
    expect(await series(metrics, 'panora_webhooks_dead_events_total')).toEqual([
      'panora_webhooks_dead_events_total{listener="b"} 1',
    ]);
    const text = await metrics.scrape();
    expect(text).toContain('panora_webhooks_processing_lag_seconds_sum{outcome="processed"} 2');
    expect(text).toContain('panora_webhooks_processing_lag_seconds_sum{outcome="dead"} 60');
    expect(text).not.toContain('outcome="failed"');
  });
});

describe(BoundedLabel.name, () => {
  it('should keep the first values it accepts and count the rest as other', () => {
    const label = new BoundedLabel(2, (value) => /^[a-z]+$/.test(value));
    expect(['a', 'b', 'a', 'c', 'DROP'].map((value) => label.of(value))).toEqual(['a', 'b', 'a', 'other', 'other']);
  });
});
