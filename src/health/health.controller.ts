import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { OutboxRelay } from '../outbox';

const BROKER = {
  type: 'object',
  description: 'The outbox relay’s broker; never makes the check fail',
  properties: {
    status: { type: 'string', enum: ['up', 'down', 'disabled'] },
    exchange: { type: 'string', example: 'panora.events' },
    since: { type: 'string', format: 'date-time', example: '2026-11-23T04:00:00.000Z' },
    error: { type: 'string', description: 'Why the broker is down', example: 'connect ECONNREFUSED 127.0.0.1:5672' },
    pending: { type: 'integer', description: 'Outbox rows not yet confirmed by the broker', example: 0 },
  },
};

/** Open routes (probes): `security: []` on each says so to readers and linters. */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly relay: OutboxRelay,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', security: [], summary: 'Liveness: the process serves HTTP' })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * The service can take deliveries: the database answers. 503 otherwise. The broker is reported
   * in a separate `broker` field and never makes this fail: receiving webhooks does not need it
   * (events wait in the outbox).
   */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    operationId: 'getReadiness',
    security: [],
    summary: 'Readiness: the service can take deliveries (the database answers)',
  })
  @ApiOkResponse({
    description: 'The database answers',
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, broker: BROKER } },
  })
  @ApiServiceUnavailableResponse({
    description: 'The database does not answer; the failing check is named',
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['error'] }, broker: BROKER } },
  })
  async ready() {
    const result = await this.health.check([() => this.db.pingCheck('database', { timeout: 2_000 })]);
    return { ...result, broker: await this.relay.health() };
  }
}
