export { CrmModule } from './crm.module';
