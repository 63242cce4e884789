import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Env } from '../platform/config';
import { Metrics } from '../platform/metrics';
import { PanoraClient } from './panora.client';

/**
 * The Panora API client, configured once (`PANORA_BASE_URL`, `PANORA_API_KEY`,
 * `PANORA_TIMEOUT_MS`), for the stages that call Panora: endpoint registration and connection
 * reconciliation. The rest of `panora/` is plain vocabulary (event types, payload shapes, the
 * delivery's checks) with no provider.
 */
@Module({
  providers: [
    {
      provide: PanoraClient,
      inject: [ConfigService, Metrics],
      useFactory: (config: ConfigService<Env, true>, metrics: Metrics) =>
        new PanoraClient({
          baseUrl: config.get('PANORA_BASE_URL', { infer: true }),
          apiKey: config.get('PANORA_API_KEY', { infer: true }),
          timeoutMs: config.get('PANORA_TIMEOUT_MS', { infer: true }),
          onAttempt: (route, status, ms) => metrics.panoraCall(route, status, ms),
        }),
    },
  ],
  exports: [PanoraClient],
})
export class PanoraModule {}
