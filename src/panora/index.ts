export { deliveryProblems, jsonDepth } from './delivery';
export type { PanoraDelivery } from './delivery';
export { ALL_EVENT_TYPES, CRM_OBJECTS, PANORA_SCOPES, isKnownScope, normaliseEventType } from './panora-event-types';
export type { CrmObject, PanoraEventType } from './panora-event-types';
export type { PanoraConnection, PanoraCrmObject, PanoraPayload, PanoraPulledRows } from './panora-payloads';
export { PanoraApiError, PanoraClient } from './panora.client';
export type { CreateWebhookInput, PanoraCreatedWebhook, PanoraWebhook } from './panora.client';
export { sampleEvent } from './sample-payloads';
export { PanoraModule } from './panora.module';
