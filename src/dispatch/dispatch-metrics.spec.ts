import { Metrics } from '../platform/metrics';
import { DispatchMetrics } from './dispatch-metrics';

const series = async (metrics: Metrics, name: string) =>
  (await metrics.scrape()).split('\n').filter((line) => line.startsWith(`${name}{`));

describe(DispatchMetrics.name, () => {
  it('should count each listener run by outcome, dead events by listener, and observe the lag of settled events only', async () => {
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
    expect(await series(metrics, 'panora_webhooks_listener_runs_total')).toEqual([
      'panora_webhooks_listener_runs_total{listener="a",outcome="succeeded"} 2',
      'panora_webhooks_listener_runs_total{listener="a",outcome="failed"} 0',
      'panora_webhooks_listener_runs_total{listener="a",outcome="dead"} 0',
      'panora_webhooks_listener_runs_total{listener="b",outcome="succeeded"} 0',
      'panora_webhooks_listener_runs_total{listener="b",outcome="failed"} 1',
      'panora_webhooks_listener_runs_total{listener="b",outcome="dead"} 1',
    ]);
    expect(await series(metrics, 'panora_webhooks_dead_events_total')).toEqual([
      'panora_webhooks_dead_events_total{listener="b"} 1',
    ]);
    const text = await metrics.scrape();
    expect(text).toContain('panora_webhooks_processing_lag_seconds_sum{outcome="processed"} 2');
    expect(text).toContain('panora_webhooks_processing_lag_seconds_sum{outcome="dead"} 60');
    expect(text).not.toContain('processing_lag_seconds_count{outcome="failed"}');
    expect(text).not.toContain('listener_failures_total');
  });

  it('should cap the listener label, so a registry gone wrong cannot grow the series without bound', async () => {
    const metrics = new Metrics();
    const dispatch = new DispatchMetrics(metrics);
    dispatch.eventsDispatched([
      {
        status: 'processed',
        receivedAt: new Date(),
        listeners: Array.from({ length: 150 }, (_, i) => ({ name: `l${i}`, status: 'succeeded' })),
      },
    ]);
    const succeeded = (await series(metrics, 'panora_webhooks_listener_runs_total')).filter((line) =>
      line.includes('outcome="succeeded"'),
    );
    expect(succeeded).toHaveLength(101);
    expect(succeeded).toContain('panora_webhooks_listener_runs_total{listener="other",outcome="succeeded"} 50');
  });
});
