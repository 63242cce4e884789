export { MetricsModule } from './metrics.module';
export { Metrics } from './metrics.service';
export type { RejectionReason } from './metrics.service';
