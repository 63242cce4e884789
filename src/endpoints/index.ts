export { EndpointSecretsService } from './endpoint-secrets.service';
export type { VerificationKey } from './endpoint-secrets.service';
export type { SyncResult } from './endpoint-sync.dto';
export type { EndpointResult, EndpointView, RotationResult } from './endpoint-views.dto';
export { RegistrationModule } from './registration.module';
export { EndpointsService } from './endpoints.service';
export type { ActiveEndpointScope } from './endpoints.service';
