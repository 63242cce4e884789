import { Module } from '@nestjs/common';
import { panoraConfig, type PanoraConfig } from './panora.config';
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
    panoraConfig.provider,
    {
      provide: PanoraClient,
      inject: [panoraConfig.token, Metrics],
      useFactory: (config: PanoraConfig, metrics: Metrics) => {
        const requests = metrics.counter(
          'panora_api_requests_total',
          "Requests to Panora's management API, by route and HTTP status code (timeout or network when no answer came)",
          ['route', 'code'],
        );
        const duration = metrics.histogram(
          'panora_api_request_duration_seconds',
          "Duration of requests to Panora's management API, by route",
          [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          ['route'],
        );
        return new PanoraClient({
          baseUrl: config.baseUrl,
          apiKey: config.apiKey,
          timeoutMs: config.timeoutMs,
          // One HTTP attempt: `route` with ids as `:id`, `code` the HTTP status code or timeout / network.
          onAttempt: (route, status, ms) => {
            requests.inc({ route, code: String(status) });
            duration.observe({ route }, ms / 1000);
          },
        });
      },
    },
  ],
  exports: [PanoraClient],
})
export class PanoraModule {}
