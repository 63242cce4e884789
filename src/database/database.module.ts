import { DynamicModule, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Env } from '../config/env.schema';
import { dataSourceOptions } from './data-source.options';

const RETRY_DELAY_MS = 2_000;

@Module({})
export class DatabaseModule {
  /**
   * @param url the resolved database URL: `DATABASE_URL`, or the embedded server's started in
   *   `main.ts` before the application is created.
   */
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<Env, true>) => {
            const timeoutSeconds = config.get('DATABASE_STARTUP_TIMEOUT', { infer: true });
            new Logger(DatabaseModule.name).log(`Using database ${describeUrl(url)}`);
            return {
              ...dataSourceOptions({ url, poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }) }),
              autoLoadEntities: true,
              migrationsRun: true,
              retryAttempts: Math.max(1, Math.ceil((timeoutSeconds * 1000) / RETRY_DELAY_MS)),
              retryDelay: RETRY_DELAY_MS,
              verboseRetryLog: false,
            };
          },
        }),
      ],
    };
  }
}

/** host:port/database, without credentials, for log lines. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
