import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp } from './app.factory';
import { listen } from './app.listen';
import { ConfigError, parseEnv } from './platform/config';
import { DatabaseStartupError, prepareDatabase, embeddedPostgres } from './platform/database';
import { bootLogger, failureLogger } from './platform/logging';

/** A second SIGTERM/SIGINT at least this long after the first exits at once. */
const REPEATED_SIGNAL_MS = 1_000;

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = parseEnv(process.env);

  // Before Nest's logger exists: same lines, same level. Refuses LOG_PRETTY without pino-pretty.
  const bootLog = bootLogger(env);
  const logger = {
    log: (message: string) => bootLog.info(message),
    warn: (message: string) => bootLog.warn(message),
    debug: (message: string) => bootLog.debug(message),
  };
  // No DATABASE_URL (never in production: parseEnv refuses that): the embedded PostgreSQL, a
  // development tool in src/dev/, loaded only in this case.
  const embedded = env.DATABASE_URL
    ? undefined
    : embeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, logger });
  const databaseUrl = env.DATABASE_URL ?? (await embedded!.start());

  let app;
  try {
    // Wait for the database, refuse one that can never work, migrate under the migration lock:
    // before Nest, so that a failure is one line, and before the pool uses the schema.
    await prepareDatabase({ url: databaseUrl, timeoutSeconds: env.DATABASE_STARTUP_TIMEOUT, logger });
    app = await createApp({ env, databaseUrl });
  } catch (error) {
    await embedded?.stop();
    throw error;
  }

  // Graceful shutdown: stop taking requests, let in-flight ones finish, close the pool, then stop
  // the embedded database. A second signal, or the timeout, exits at once.
  let closingSince: number | undefined;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closingSince !== undefined) {
      // Under `npm start` one Ctrl-C arrives twice at once: from the terminal (to the whole process
      // group) and forwarded by npm. Only a signal sent later is someone asking to hurry.
      if (Date.now() - closingSince >= REPEATED_SIGNAL_MS) process.exit(1);
      return;
    }
    closingSince = Date.now();
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

  let url: string;
  try {
    url = await listen(app, env.HOST, env.PORT);
  } catch (error) {
    await app.close().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }
  bootLog.info(`listening on ${url} (docs /docs, metrics /metrics)`);
}

main().catch((error: unknown) => {
  // One JSON line on stderr, whatever failed (the configuration, LOG_PRETTY included, may be it):
  // the message alone when it says what to fix (a setting, the database), the error with its
  // stack for anything unexpected.
  const log = failureLogger();
  if (error instanceof ConfigError) log.fatal(error.message);
  else if (error instanceof DatabaseStartupError) log.fatal(`Start-up failed: ${error.message}`);
  else log.fatal({ err: error }, `Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
