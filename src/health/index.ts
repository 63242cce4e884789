export { HealthModule } from './health.module';
export type { ServiceStatusDto as ServiceStatus } from './status.dto';
