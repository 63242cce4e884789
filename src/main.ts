import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { createApp } from './app.factory';
import { ConfigError, parseEnv } from './config/env.schema';
import { EmbeddedPostgresServer } from './database/embedded-postgres';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = parseEnv(process.env);

  // Before Nest's logger exists: same JSON lines, same level.
  const bootLog = pino({ level: env.LOG_LEVEL, base: { context: 'Bootstrap' } });
  const embedded = env.DATABASE_URL
    ? undefined
    : new EmbeddedPostgresServer({
        dataDir: env.DATA_DIR,
        port: env.EMBEDDED_POSTGRES_PORT,
        logger: { log: (message: string) => bootLog.info(message), warn: (message: string) => bootLog.warn(message) },
      });
  const databaseUrl = env.DATABASE_URL ?? (await embedded!.start());

  let app;
  try {
    app = await createApp({ env, databaseUrl });
  } catch (error) {
    await embedded?.stop();
    throw error;
  }

  // Graceful shutdown: stop taking requests, let in-flight ones finish, close the pool, then stop
  // the embedded database. A second signal, or the timeout, exits at once.
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) process.exit(1);
    closing = true;
    bootLog.info(`${signal} received, shutting down`);
    const timer = setTimeout(() => process.exit(1), env.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    void app
      .close()
      .then(() => embedded?.stop())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await app.listen(env.PORT, env.HOST);
}

main().catch((error: unknown) => {
  // One clear line for configuration errors; the stack for anything unexpected.
  process.stderr.write(
    error instanceof ConfigError
      ? `${error.message}\n`
      : `Start-up failed: ${String((error as Error)?.stack ?? error)}\n`,
  );
  process.exit(1);
});
