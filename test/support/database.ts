import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/platform/database/data-source.options';

export function baseDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: the jest global setup should have set it');
  return url;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: baseDatabaseUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** A plain pg client on the database, for asserting rows the way a user would see them. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on the test server, with the real migrations applied when `migrate` is
 * true (the default). One per test file keeps files independent.
 */
export async function createTestDatabase({ migrate = true } = {}): Promise<TestDatabase> {
  const name = `pw_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(baseDatabaseUrl(), name);
  if (migrate) {
    const dataSource = new DataSource(dataSourceOptions({ url, poolSize: 1 }));
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.destroy();
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  client.on('error', () => undefined);
  // One query at a time on the one client, in call order (as pg itself queued them, but without
  // its deprecation warning for a query sent while another runs).
  let previous: Promise<unknown> = Promise.resolve();
  return {
    name,
    url,
    query: (sql, params) => {
      const result = previous.then(() => client.query(sql, params));
      previous = result.catch(() => undefined);
      return result.then((r) => r.rows);
    },
    drop: async () => {
      await client.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
