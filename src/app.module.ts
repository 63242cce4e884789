import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { loggerParams } from './common/logging';
import type { Env } from './config/env.schema';
import { ConnectionsModule } from './connections/connections.module';
import { CrmModule } from './crm/crm.module';
import { DatabaseToolsModule } from './database/database-tools.module';
import { DatabaseModule } from './database/database.module';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { RegistrationModule } from './registration/registration.module';
import { SecretsModule } from './secrets/secrets.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { BusModule } from './bus/bus.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';

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
        RegistrationModule,
        WebhooksModule,
        BusModule,
        ConnectionsModule,
        CrmModule,
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
