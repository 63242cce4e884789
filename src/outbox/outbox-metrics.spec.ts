import { Metrics } from '../platform/metrics';
import { OutboxMetrics } from './outbox-metrics';
import type { OutboxRepository } from './outbox.repository';

const brokerUp = async (metrics: Metrics) =>
  (await metrics.scrape()).split('\n').filter((line) => line.startsWith('panora_webhooks_broker_up'));

describe(OutboxMetrics.name, () => {
  const outbox = { backlog: () => Promise.resolve({ pending: '0', oldest_s: null }) } as unknown as OutboxRepository;

  it('should leave broker_up out while the relay is off (RABBITMQ_URL unset)', async () => {
    const metrics = new Metrics();
    new OutboxMetrics(metrics, outbox).brokerStatus('disabled');
    expect(await brokerUp(metrics)).toEqual([]);
  });

  it('should say 1 while the relay is connected and 0 while it is not', async () => {
    const metrics = new Metrics();
    const outboxMetrics = new OutboxMetrics(metrics, outbox);
    outboxMetrics.brokerStatus('down');
    expect(await brokerUp(metrics)).toEqual(['panora_webhooks_broker_up 0']);
    outboxMetrics.brokerStatus('up');
    expect(await brokerUp(metrics)).toEqual(['panora_webhooks_broker_up 1']);
    outboxMetrics.brokerStatus('down');
    expect(await brokerUp(metrics)).toEqual(['panora_webhooks_broker_up 0']);
  });
});
