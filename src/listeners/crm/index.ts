export { CrmModule } from './crm.module';
export { CRM_RECOVERY } from './crm-recovery';
export type { CrmRecoveryKind } from './crm-recovery';
export { CrmProjectionService } from './crm-projection.service';
export type { UpsertResult } from './crm-projection.service';
export type { CrmKind } from './crm-mapping';
