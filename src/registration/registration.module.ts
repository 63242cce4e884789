import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Env } from '../config/env.schema';
import { Metrics } from '../metrics/metrics.service';
import { EndpointChangeLock } from './endpoint-change-lock';
import { EndpointImportService } from './endpoint-import.service';
import { EndpointRegistrationService } from './endpoint-registration.service';
import { EndpointOverlaps } from './endpoint-scopes';
import { EndpointSecretsService } from './endpoint-secrets.service';
import { EndpointSyncService } from './endpoint-sync.service';
import { EndpointViewMapper } from './endpoint-view.mapper';
import { EndpointsController } from './endpoints.controller';
import { EndpointsRepository } from './endpoints.repository';
import { EndpointsService } from './endpoints.service';
import { PanoraClient } from './panora.client';
import { PanoraRegistrar } from './panora-registrar';
import { WebhookEndpointSecret } from './webhook-endpoint-secret.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

/**
 * Webhook endpoints: registration with Panora, their secrets (sealed at rest), and the secret
 * lookup the webhooks module's signature guard depends on (never the reverse).
 */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEndpoint, WebhookEndpointSecret])],
  controllers: [EndpointsController],
  providers: [
    EndpointChangeLock,
    EndpointSecretsService,
    EndpointsRepository,
    EndpointsService,
    EndpointViewMapper,
    EndpointOverlaps,
    PanoraRegistrar,
    EndpointRegistrationService,
    EndpointImportService,
    EndpointSyncService,
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
  exports: [EndpointSecretsService, PanoraClient],
})
export class RegistrationModule {}
