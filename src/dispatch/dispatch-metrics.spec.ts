import { Metrics } from '../platform/metrics';
import { DispatchMetrics } from './dispatch-metrics';

const series = async (metrics: Metrics, name: string) =>
  (await metrics.scrape()).split('\n').filter((line) => line.startsWith(`${name}{`));

describe(DispatchMetrics.name, () => {
  it('should count failed and dead listeners and observe the lag of settled events only', async () => {
    const metrics = new Metrics();
    const dispatch = new DispatchMetrics(metrics);
    const now = Date.now();
    dispatch.eventsDispatched(
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
