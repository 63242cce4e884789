import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions, MigrationExecutor, type QueryRunner } from 'typeorm';
import { dataSourceOptions } from './data-source.options';

/**
 * The key of the PostgreSQL advisory lock (`pg_advisory_lock(bigint)`) under which migrations run:
 * the bytes of "pnrwhmig". Every process of this service that migrates a database (the service at
 * start, `npm run migration:*`) takes it on one dedicated connection first, so replicas started
 * together apply each migration once while the others wait, then find nothing pending. Fixed:
 * changing it would let an old and a new version migrate at the same time.
 */
export const MIGRATION_LOCK_KEY = '8101538636864776551';

const RETRY_DELAY_MS = 2_000;

export interface StartupLogger {
  log(message: string): void;
  warn(message: string): void;
  debug?(message: string): void;
}

/**
 * Start-up cannot use the database, for a reason the message states in one line. Printed without
 * a stack: the message is the whole story (a database that does not exist, a refused login, a
 * database still unreachable after DATABASE_STARTUP_TIMEOUT).
 */
export class DatabaseStartupError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'DatabaseStartupError';
  }
}

/**
 * SQLSTATE classes and codes a later attempt can get past: connection exceptions (08), too many
 * connections and other resource shortages (53), a server shutting down or starting up (57P01-3),
 * serialization failures and deadlocks (40001, 40P01), lock timeouts (55P03), system errors (58).
 */
const TRANSIENT_SQLSTATE = /^(08|53|58|57P0[123]$|40001$|40P01$|55P03$)/;
/** Node's TLS verification errors: a certificate no retry will change. */
const TLS_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/**
 * Whether an error from connecting or migrating is permanent (the server answered with an error
 * no retry fixes: database does not exist 3D000, authentication failed 28P01/28000, permission
 * denied 42501, a failing migration, a TLS or password setup the server refuses) or transient
 * (refused, reset, timed out, DNS not answering yet, the server starting or shutting down).
 */
export function isPermanentDatabaseError(error: unknown): boolean {
  const { code, message, severity } = (error ?? {}) as { code?: unknown; message?: unknown; severity?: unknown };
  const text = typeof message === 'string' ? message : '';
  // The server's own answer (node-postgres gives it a severity): its SQLSTATE says which.
  if (typeof severity === 'string' && typeof code === 'string') return !TRANSIENT_SQLSTATE.test(code);
  if (typeof code === 'string' && TLS_ERROR.test(code)) return true;
  // pg's own refusals before any query: SSL not offered, a password the server demands but the URL lacks.
  return /does not support SSL|^SASL:|password must be a string/.test(text);
}

/** What to fix, for the permanent errors a user meets most. */
function hint(code: string | undefined): string {
  if (code === '3D000') return 'create the database or fix DATABASE_URL';
  if (code?.startsWith('28')) return 'fix the user or password in DATABASE_URL';
  if (code === '42501') return 'grant the DATABASE_URL user the rights to create tables in its schema';
  return 'fix the database or DATABASE_URL';
}

function describe(error: unknown): { code?: string; text: string } {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : String(error);
  return { code: typeof code === 'string' ? code : undefined, text };
}

export interface PrepareDatabaseOptions {
  url: string;
  /** DATABASE_STARTUP_TIMEOUT: how long an unreachable database is waited for. */
  timeoutSeconds: number;
  logger: StartupLogger;
}

const prepared = new Map<string, Promise<void>>();

/**
 * Makes the database ready for the service: waits for it while it is unreachable (up to
 * `timeoutSeconds`), fails at once on a permanent error, and applies pending migrations under the
 * migration lock. Done once per process and URL: `main.ts` calls it before the application is
 * built (so a failure is one line, not a framework stack), and the database module again, which
 * then finds it done (tests build the application without `main.ts`).
 */
export function prepareDatabase(options: PrepareDatabaseOptions): Promise<void> {
  const existing = prepared.get(options.url);
  if (existing) return existing;
  const run = waitAndMigrate(options);
  prepared.set(options.url, run);
  run.catch(() => prepared.delete(options.url));
  return run;
}

async function waitAndMigrate({ url, timeoutSeconds, logger }: PrepareDatabaseOptions): Promise<void> {
  const where = describeUrl(url);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastReason: string | undefined;
  for (;;) {
    try {
      await probe(url);
      await migrate(url, logger);
      if (lastReason !== undefined) logger.log(`Database ${where} reachable`);
      return;
    } catch (error) {
      const { code, text } = describe(error);
      if (isPermanentDatabaseError(error)) {
        throw new DatabaseStartupError(
          `Database ${where} refused start-up: ${text}${code ? ` (${code})` : ''}: ${hint(code)}`,
          code,
        );
      }
      const reason = code && !text.includes(code) ? `${text} (${code})` : text;
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        throw new DatabaseStartupError(
          `Unable to connect to the database ${where}: unreachable after ${timeoutSeconds} s (DATABASE_STARTUP_TIMEOUT): ${reason}`,
          code,
        );
      }
      if (reason !== lastReason) {
        logger.warn(`Database ${where} unreachable (${reason}); retrying for up to ${left} s`);
        lastReason = reason;
      }
      await sleep(Math.min(RETRY_DELAY_MS, Math.max(0, deadline - Date.now())));
    }
  }
}

/** One connection, closed at once: tells an unreachable server from one that refuses us. */
async function probe(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function migrate(url: string, logger: StartupLogger): Promise<void> {
  const dataSource = new DataSource(migrationDataSourceOptions(url));
  await dataSource.initialize();
  try {
    const applied = await withMigrationLock(dataSource, logger, (queryRunner) => runPending(dataSource, queryRunner));
    // What changed in the schema, by name, once; a start that changed nothing says so at debug.
    if (applied.length > 0) {
      logger.log(
        `applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.map((m) => m.name).join(', ')}`,
      );
    } else {
      logger.debug?.('no pending migrations');
    }
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The data source migrations run over: one connection (the lock is held by a session, so the
 * migrations must run on that same one), and no query timeout: waiting for another instance's
 * migrations, or a long one of our own, is not a stuck database.
 */
export function migrationDataSourceOptions(url: string): DataSourceOptions {
  const options = dataSourceOptions({ url, poolSize: 1, applicationName: 'panora-webhooks:migrate' });
  const extra = { ...(options.extra as Record<string, unknown>), query_timeout: undefined };
  return { ...options, extra };
}

/**
 * Runs `work` on one dedicated connection holding the migration lock; waits for the lock while
 * another process holds it (saying so once). The lock goes with the session, so a process that
 * dies mid-migration frees it.
 */
export async function withMigrationLock<T>(
  dataSource: DataSource,
  logger: StartupLogger,
  work: (queryRunner: QueryRunner) => Promise<T>,
): Promise<T> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    const [{ locked }] = (await queryRunner.query('SELECT pg_try_advisory_lock($1) AS locked', [
      MIGRATION_LOCK_KEY,
    ])) as { locked: boolean }[];
    if (!locked) {
      logger.log('Another instance is running the migrations: waiting for it');
      await queryRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    try {
      return await work(queryRunner);
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await queryRunner.release();
  }
}

/** Applies pending migrations on `queryRunner`, in one transaction; returns those applied. */
export function runPending(dataSource: DataSource, queryRunner: QueryRunner) {
  const executor = new MigrationExecutor(dataSource, queryRunner);
  executor.transaction = 'all';
  return executor.executePendingMigrations();
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
