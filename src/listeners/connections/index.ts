export type { ConnectionTokenDto, ConnectionViewDto, ReconcileReportDto } from './connections.dto';
export { ConnectionsModule } from './connections.module';
export { ConnectionsService } from './connections.service';
export type { ConnectionView } from './connections.service';
export { ConnectionsReconciler } from './connections.reconciler';
export type { ReconcileReport } from './connections.reconciler';
export { ConnectionsErrorCode, ConnectionsException } from './connections.exception';
