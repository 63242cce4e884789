import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { ApiErrors, METRICS_AUTH } from '../http';
import { MetricsAuthGuard } from './metrics-auth.guard';
import { Metrics } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
@UseGuards(MetricsAuthGuard)
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description:
      'Prometheus text format. `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set; open otherwise ' +
      '(in production only with METRICS_PUBLIC=true).',
  })
  // The token, or none: GET /metrics is open while METRICS_TOKEN is unset.
  @ApiSecurity({})
  @ApiSecurity(METRICS_AUTH)
  @ApiOkResponse({
    description: 'The metrics, in the Prometheus text format',
    content: {
      [Registry.PROMETHEUS_CONTENT_TYPE]: {
        schema: { type: 'string' },
        example:
          '# HELP panora_webhooks_listener_runs_total Listener runs by listener and outcome\n' +
          '# TYPE panora_webhooks_listener_runs_total counter\n' +
          'panora_webhooks_listener_runs_total{listener="connections",outcome="succeeded"} 42\n',
      },
    },
  })
  @ApiErrors({ 401: 'METRICS_TOKEN is set and the request does not carry it' })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
