import { Global, Module } from '@nestjs/common';
import { PgNotifications } from './pg-notifications.service';

/** Database helpers every module may use: PostgreSQL notifications. */
@Global()
@Module({ providers: [PgNotifications], exports: [PgNotifications] })
export class DatabaseToolsModule {}
