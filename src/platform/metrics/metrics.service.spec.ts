import { BoundedLabel, Metrics } from './metrics.service';

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
});

describe(BoundedLabel.name, () => {
  it('should keep the first values it accepts and count the rest as other', () => {
    const label = new BoundedLabel(2, (value) => /^[a-z]+$/.test(value));
    expect(['a', 'b', 'a', 'c', 'DROP'].map((value) => label.of(value))).toEqual(['a', 'b', 'a', 'other', 'other']);
  });
});
