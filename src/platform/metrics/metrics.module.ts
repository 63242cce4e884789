import { Global, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Env } from '../config';
import { MetricsController } from './metrics.controller';
import { Metrics } from './metrics.service';

/** The one start-up line saying who may read `GET /metrics`. */
export function metricsAccess(env: Pick<Env, 'METRICS_TOKEN' | 'METRICS_PUBLIC' | 'NODE_ENV'>): string {
  if (env.METRICS_TOKEN !== undefined) return 'GET /metrics needs the metrics token (METRICS_TOKEN)';
  if (env.METRICS_PUBLIC) return 'GET /metrics is public (METRICS_PUBLIC=true)';
  return `GET /metrics is public: METRICS_TOKEN is unset (NODE_ENV=${env.NODE_ENV}; production needs METRICS_TOKEN or METRICS_PUBLIC=true)`;
}

/**
 * Prometheus metrics (`GET /metrics`). Global: each stage registers its own instruments in
 * `Metrics` (the receiver's and the inbox backlog in inbox/, the outbox's in outbox/, the Panora
 * client's in panora/); it depends on none of them.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics],
  exports: [Metrics],
})
export class MetricsModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(MetricsModule.name);

  constructor(private readonly config: ConfigService<Env, true>) {}

  onApplicationBootstrap(): void {
    const env = {
      METRICS_TOKEN: this.config.get('METRICS_TOKEN', { infer: true }),
      METRICS_PUBLIC: this.config.get('METRICS_PUBLIC', { infer: true }),
      NODE_ENV: this.config.get('NODE_ENV', { infer: true }),
    };
    this.logger.log({ metricsAccess: env.METRICS_TOKEN !== undefined ? 'token' : 'public' }, metricsAccess(env));
  }
}
