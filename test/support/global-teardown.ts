import type { EmbeddedPostgresServer } from '../../src/dev/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __embeddedPostgres?: EmbeddedPostgresServer }).__embeddedPostgres?.stop();
}
