export type { ConnectionTokenDto, ConnectionViewDto, ReconcileReportDto } from './connections.dto';
export { ConnectionsModule } from './connections.module';
