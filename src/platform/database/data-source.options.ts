import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';

export interface DatabaseOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

/** Options shared by the running service, the migration CLI and the tests. */
export function dataSourceOptions(options: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: options.url,
    synchronize: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'all',
    // The migrations own the schema (gen_random_uuid() is built into PostgreSQL 13+): no
    // CREATE EXTENSION on every connect, which replicas starting together would race on.
    installExtensions: false,
    applicationName: options.applicationName ?? 'panora-webhooks',
    poolSize: options.poolSize ?? 10,
    extra: {
      // Fail fast when the database is unreachable, so requests get a 503 instead of hanging.
      connectionTimeoutMillis: 5_000,
      // A database that stops answering without closing the connection: give up on a query after
      // this instead of holding the request (and its sender) forever.
      query_timeout: 60_000,
    },
  };
}
