export { DatabaseStartupError, prepareDatabase } from './database-startup';
export { DatabaseToolsModule } from './database-tools.module';
export { DatabaseModule } from './database.module';
export { embeddedPostgres } from './embedded-database';
export { PgNotifications } from './pg-notifications.service';
