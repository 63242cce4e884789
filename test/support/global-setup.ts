import { resolve } from 'node:path';
import { EmbeddedPostgresServer } from '../../src/dev/embedded-postgres';

/**
 * Tests run against `DATABASE_URL` when it is set (CI points it at the machine's PostgreSQL) and
 * otherwise against an embedded PostgreSQL, the same mechanism `npm start` uses. Each test file
 * then makes its own database on that server (see database.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_SOURCE = 'DATABASE_URL';
    return;
  }
  const server = new EmbeddedPostgresServer({
    dataDir: resolve(__dirname, '../../.data/test'),
    port: Number(process.env.TEST_EMBEDDED_POSTGRES_PORT ?? 54339),
    database: 'postgres',
    logger: { log: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`) },
  });
  process.env.DATABASE_URL = await server.start();
  process.env.TEST_DATABASE_SOURCE = 'embedded';
  (globalThis as { __embeddedPostgres?: EmbeddedPostgresServer }).__embeddedPostgres = server;
}
