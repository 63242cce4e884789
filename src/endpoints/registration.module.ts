import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { endpointsConfig } from './endpoints.config';
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
import { PanoraModule } from '../panora';
import { PanoraRegistrar } from './panora-registrar';
import { WebhookEndpointSecret } from './webhook-endpoint-secret.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

/**
 * Webhook endpoints: registration with Panora, their secrets (sealed at rest), and the secret
 * lookup the inbox's signature guard depends on (never the reverse).
 */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookEndpoint, WebhookEndpointSecret]), PanoraModule],
  controllers: [EndpointsController],
  providers: [
    endpointsConfig.provider,
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
  ],
  exports: [EndpointSecretsService, EndpointsService],
})
export class RegistrationModule {}
