export { RecoveryModule } from './recovery.module';
export type { MissedEventView, RecoveryRunReport, RecoveryStatus } from './recovery.service';
export { recoveryConfig } from './recovery.config';
export type { RecoveryConfig } from './recovery.config';
