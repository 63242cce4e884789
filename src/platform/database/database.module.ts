import { DynamicModule, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Env } from '../config';
import { dataSourceOptions } from './data-source.options';
import { describeUrl, prepareDatabase } from './database-startup';

export { describeUrl } from './database-startup';

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
          useFactory: async (config: ConfigService<Env, true>) => {
            const timeoutSeconds = config.get('DATABASE_STARTUP_TIMEOUT', { infer: true });
            const logger = new Logger(DatabaseModule.name);
            logger.log(`Using database ${describeUrl(url)}`);
            // Migrations run before the pool below exists, under the migration lock, on their own
            // connection (already done by main.ts in the service; tests build the app directly).
            await prepareDatabase({ url, timeoutSeconds, logger });
            return {
              ...dataSourceOptions({ url, poolSize: config.get('DATABASE_POOL_SIZE', { infer: true }) }),
              autoLoadEntities: true,
              migrationsRun: false,
              // The database was reachable a moment ago: these retries only cover a blip since.
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
