import { Injectable } from '@nestjs/common';
import { endpointsConfig, type EndpointsConfig } from './endpoints.config';
import type { EndpointView } from './endpoint-views.dto';
import type { WebhookEndpoint } from './webhook-endpoint.entity';

/** Shows endpoints as the admin API answers them: their receive URL, and secrets only by their last 4 characters. */
@Injectable()
export class EndpointViewMapper {
  /** PUBLIC_BASE_URL, or this service on localhost. */
  readonly publicBaseUrl: string;

  constructor(@endpointsConfig.inject() config: EndpointsConfig) {
    this.publicBaseUrl = config.publicBaseUrl;
  }

  receiveUrl(id: string): string {
    return `${this.publicBaseUrl}/webhooks/panora/${id}`;
  }

  view(endpoint: WebhookEndpoint, secrets = endpoint.secrets ?? []): EndpointView {
    return {
      id: endpoint.id,
      panoraEndpointId: endpoint.panoraEndpointId,
      url: endpoint.url,
      receiveUrl: this.receiveUrl(endpoint.id),
      description: endpoint.description,
      scope: endpoint.scope,
      active: endpoint.active,
      idProject: endpoint.idProject,
      createdAt: endpoint.createdAt,
      updatedAt: endpoint.updatedAt,
      deletedAt: endpoint.deletedAt,
      secrets: [...secrets]
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map((secret) => ({
          id: secret.id,
          hint: secret.hint,
          panoraEndpointId: secret.panoraEndpointId,
          createdAt: secret.createdAt,
          expiresAt: secret.expiresAt,
        })),
    };
  }
}
