export { OnPanoraEvent, OnPanoraEventBatch, PanoraWebhookEvent, PermanentEventError } from './panora-event';
export { DispatchModule } from './dispatch.module';
