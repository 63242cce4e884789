import { Logger } from '@nestjs/common';
import { Metrics } from '../../platform/metrics';
import { ReceiverStats } from './receiver-stats.service';

const series = async (metrics: Metrics, name: string) =>
  (await metrics.scrape()).split('\n').filter((line) => line.startsWith(`${name}{`));

describe(ReceiverStats.name, () => {
  let metrics: Metrics;
  let stats: ReceiverStats;
  beforeEach(() => {
    metrics = new Metrics();
    stats = new ReceiverStats(metrics);
  });
  afterEach(() => stats.onModuleDestroy());

  it('should label deliveries by endpoint and type', async () => {
    stats.accept('e1', 'crm.contact.created');
    stats.accept('e1', 'crm.contact.created');
    stats.accept('e2', 'connection.created');
    expect(await series(metrics, 'panora_webhooks_deliveries_received_total')).toEqual([
      'panora_webhooks_deliveries_received_total{endpoint="e1",type="crm.contact.created"} 2',
      'panora_webhooks_deliveries_received_total{endpoint="e2",type="connection.created"} 1',
    ]);
  });

  it('should count types that do not look like event types as other', async () => {
    stats.accept('e1', 'DROP TABLE "x"; --');
    stats.accept('e1', 'a'.repeat(10));
    expect(await series(metrics, 'panora_webhooks_deliveries_received_total')).toEqual([
      'panora_webhooks_deliveries_received_total{endpoint="e1",type="other"} 2',
    ]);
  });

  it('should cap the number of distinct type labels (type is not covered by the signature)', async () => {
    for (let i = 0; i < 1000; i++) stats.accept('e1', `crm.thing${i}.created`);
    const lines = await series(metrics, 'panora_webhooks_deliveries_received_total');
    expect(lines.length).toBeLessThanOrEqual(301);
    expect(lines).toContain('panora_webhooks_deliveries_received_total{endpoint="e1",type="other"} 700');
  });

  it('should report every rejection reason, at 0 before the first', async () => {
    stats.reject('signature_mismatch');
    const lines = await series(metrics, 'panora_webhooks_deliveries_rejected_total');
    expect(lines).toContain('panora_webhooks_deliveries_rejected_total{reason="signature_mismatch"} 1');
    expect(lines).toContain('panora_webhooks_deliveries_rejected_total{reason="size"} 0');
  });

  it('should count duplicates by endpoint on their own, never as rejected', async () => {
    stats.duplicate('e1');
    stats.duplicate('e1');
    expect(await series(metrics, 'panora_webhooks_deliveries_duplicate_total')).toEqual([
      'panora_webhooks_deliveries_duplicate_total{endpoint="e1"} 2',
    ]);
    const rejected = await series(metrics, 'panora_webhooks_deliveries_rejected_total');
    expect(rejected.every((line) => line.endsWith(' 0'))).toBe(true);
    expect(rejected.join('\n')).not.toContain('duplicate');
  });

  it('should label the receive route timings by HTTP status code', async () => {
    stats.answered(200, 3);
    stats.answered(401, 1);
    const text = await metrics.scrape();
    expect(text).toContain('panora_webhooks_ingest_duration_seconds_count{code="200"} 1');
    expect(text).toContain('panora_webhooks_ingest_duration_seconds_count{code="401"} 1');
  });

  describe('the summary line', () => {
    let logged: { level: string; message: unknown }[];
    beforeEach(() => {
      logged = [];
      for (const level of ['warn', 'log', 'debug'] as const) {
        jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => {
          logged.push({ level, message: args[1] });
        });
      }
    });
    afterEach(() => jest.restoreAllMocks());

    it('should warn about signature failures, without the duplicates', () => {
      stats.reject('signature_mismatch');
      stats.duplicate('e1');
      stats.onModuleDestroy();
      expect(logged).toEqual([
        { level: 'debug', message: 'Duplicate deliveries in the last minute (answered 200, not stored again): 1' },
        { level: 'warn', message: 'Rejected deliveries in the last minute: {"signature_mismatch":1}' },
      ]);
    });

    it('should say nothing above debug when the minute saw only duplicates', () => {
      stats.duplicate('e1');
      stats.duplicate('e2');
      stats.onModuleDestroy();
      expect(logged).toEqual([
        { level: 'debug', message: 'Duplicate deliveries in the last minute (answered 200, not stored again): 2' },
      ]);
    });
  });
});
