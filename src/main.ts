import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { createApp } from './app.factory';
import { ConfigError, parseEnv } from './platform/config';
import { DatabaseStartupError, prepareDatabase, embeddedPostgres } from './platform/database';

/** A second SIGTERM/SIGINT at least this long after the first exits at once. */
const REPEATED_SIGNAL_MS = 1_000;

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = parseEnv(process.env);

  // Before Nest's logger exists: same JSON lines, same level.
  const bootLog = pino({ level: env.LOG_LEVEL, base: { context: 'Bootstrap' } });
  // No DATABASE_URL (never in production: parseEnv refuses that): the embedded PostgreSQL, a
  // development tool in src/dev/, loaded only in this case.
  const embedded = env.DATABASE_URL
    ? undefined
    : embeddedPostgres({
        dataDir: env.DATA_DIR,
        port: env.EMBEDDED_POSTGRES_PORT,
        logger: { log: (message: string) => bootLog.info(message), warn: (message: string) => bootLog.warn(message) },
      });
  const databaseUrl = env.DATABASE_URL ?? (await embedded!.start());

  let app;
  try {
    // Wait for the database, refuse one that can never work, migrate under the migration lock:
    // before Nest, so that a failure is one line, and before the pool uses the schema.
    await prepareDatabase({
      url: databaseUrl,
      timeoutSeconds: env.DATABASE_STARTUP_TIMEOUT,
      logger: { log: (message: string) => bootLog.info(message), warn: (message: string) => bootLog.warn(message) },
    });
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

  await app.listen(env.PORT, env.HOST);
}

main().catch((error: unknown) => {
  // One clear line for configuration errors. Anything else is one JSON line in the service's log
  // format, on stderr: the message alone for a database start-up cannot use, the error with its
  // stack for anything unexpected.
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    const log = pino({ base: { context: 'Bootstrap' } }, pino.destination({ fd: 2, sync: true }));
    if (error instanceof DatabaseStartupError) log.fatal(`Start-up failed: ${error.message}`);
    else log.fatal({ err: error }, `Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
