import { Global, Module } from '@nestjs/common';
import { BacklogMetrics } from './backlog-metrics.service';
import { MetricsController } from './metrics.controller';
import { Metrics } from './metrics.service';

/**
 * Prometheus metrics (`GET /metrics`). Global: the receiver, the dispatcher, the outbox relay and
 * the Panora client record into `Metrics`; it depends on none of them.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics, BacklogMetrics],
  exports: [Metrics],
})
export class MetricsModule {}
