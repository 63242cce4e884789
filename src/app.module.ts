import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { HttpExceptionFilter } from './platform/http';
import { loggerParams } from './platform/logging';
import type { Env } from './platform/config';
import { ConnectionsModule } from './listeners/connections';
import { CrmModule } from './listeners/crm';
import { DatabaseToolsModule, DatabaseModule } from './platform/database';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { RegistrationModule } from './endpoints';
import { SecretsModule } from './platform/secrets';
import { WebhooksModule } from './inbox';
import { OutboxModule } from './outbox';
import { DispatchModule } from './dispatch';
import { ForwardingModule } from './listeners/forwarding';
import { PanoraModule } from './panora';
import { HealthModule } from './health';
import { MetricsModule } from './platform/metrics';
import { RecoveryModule } from './recovery';
import { ConsoleModule } from './console';

export interface AppModuleOptions {
  /** The validated configuration (see config/env.schema.ts). */
  env: Env;
  /** `DATABASE_URL`, or the URL of the embedded server `main.ts` started. */
  databaseUrl: string;
}

@Module({})
export class AppModule {
  static forRoot({ env, databaseUrl }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => env] }),
        LoggerModule.forRoot(loggerParams(env)),
        DatabaseModule.forRoot(databaseUrl),
        DatabaseToolsModule,
        EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
        SecretsModule,
        MetricsModule,
        HealthModule,
        PanoraModule,
        RegistrationModule,
        WebhooksModule,
        DispatchModule,
        OutboxModule,
        ForwardingModule,
        ConnectionsModule,
        CrmModule,
        RecoveryModule,
        ConsoleModule,
      ],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
