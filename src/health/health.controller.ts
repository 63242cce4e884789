import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { OutboxRelay } from '../bus/outbox-relay.service';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly relay: OutboxRelay,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
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
  async ready() {
    const result = await this.health.check([() => this.db.pingCheck('database', { timeout: 2_000 })]);
    return { ...result, broker: await this.relay.health() };
  }
}
