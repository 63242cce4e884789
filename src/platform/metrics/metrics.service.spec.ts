import { Metrics } from './metrics.service';

const series = async (metrics: Metrics, name: string) =>
  (await metrics.scrape()).split('\n').filter((line) => line.startsWith(`${name}{`));

describe(Metrics.name, () => {
  it('should label deliveries by endpoint and type', async () => {
    const metrics = new Metrics();
    metrics.deliveryReceived('e1', 'crm.contact.created');
    metrics.deliveryReceived('e1', 'crm.contact.created');
    metrics.deliveryReceived('e2', 'connection.created');
    expect(await series(metrics, 'panora_webhooks_deliveries_received_total')).toEqual([
      'panora_webhooks_deliveries_received_total{endpoint="e1",type="crm.contact.created"} 2',
      'panora_webhooks_deliveries_received_total{endpoint="e2",type="connection.created"} 1',
    ]);
  });

  it('should count types that do not look like event types as other', async () => {
    const metrics = new Metrics();
    metrics.deliveryReceived('e1', 'DROP TABLE "x"; --');
    metrics.deliveryReceived('e1', 'a'.repeat(10));
    expect(await series(metrics, 'panora_webhooks_deliveries_received_total')).toEqual([
      'panora_webhooks_deliveries_received_total{endpoint="e1",type="other"} 2',
    ]);
  });

  it('should cap the number of distinct type labels (type is not covered by the signature)', async () => {
    const metrics = new Metrics();
    for (let i = 0; i < 1000; i++) metrics.deliveryReceived('e1', `crm.thing${i}.created`);
    const lines = await series(metrics, 'panora_webhooks_deliveries_received_total');
    expect(lines.length).toBeLessThanOrEqual(301);
    expect(lines).toContain('panora_webhooks_deliveries_received_total{endpoint="e1",type="other"} 700');
  });

  it('should report every rejection reason, at 0 before the first', async () => {
    const metrics = new Metrics();
    metrics.deliveryRejected('signature_mismatch');
    const lines = await series(metrics, 'panora_webhooks_deliveries_rejected_total');
    expect(lines).toContain('panora_webhooks_deliveries_rejected_total{reason="signature_mismatch"} 1');
    expect(lines).toContain('panora_webhooks_deliveries_rejected_total{reason="size"} 0');
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
