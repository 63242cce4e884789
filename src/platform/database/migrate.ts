import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource, MigrationExecutor } from 'typeorm';
import { ConfigError, parseEnv } from '../config';
import { migrationDataSourceOptions, runPending, withMigrationLock } from './database-startup';
import { embeddedPostgres } from './embedded-database';

const USAGE = 'usage: npm run migration:run | npm run migration:revert | npm run migration:generate -- <Name>';

/**
 * The migration command line, over the same data source as the service: `DATABASE_URL`, or the
 * embedded PostgreSQL in DATA_DIR when it is unset (the running service's server, when one runs:
 * it is used, never stopped).
 */
async function main([command, name]: string[]): Promise<void> {
  if (
    !['run', 'revert', 'generate'].includes(command) ||
    (command === 'generate' && !/^[A-Za-z][A-Za-z0-9]*$/.test(name ?? ''))
  ) {
    throw new ConfigError(USAGE);
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = parseEnv(process.env);
  const embedded = env.DATABASE_URL
    ? undefined
    : embeddedPostgres({ dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, shareRunning: true });
  const url = env.DATABASE_URL ?? (await embedded!.start());
  const dataSource = new DataSource({
    ...migrationDataSourceOptions(url),
    entities: [join(__dirname, '..', '**', '*.entity.js')],
    logging: ['schema', 'migration', 'error'],
  });
  const logger = { log: (message: string) => console.log(message), warn: (message: string) => console.warn(message) };
  try {
    await dataSource.initialize();
    // Under the same lock as the service's start: safe next to replicas starting.
    await withMigrationLock(dataSource, logger, async (queryRunner) => {
      if (command === 'run') {
        const applied = await runPending(dataSource, queryRunner);
        console.log(
          applied.length
            ? `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.map((m) => m.name).join(', ')}`
            : 'No pending migrations',
        );
      } else if (command === 'revert') {
        const executor = new MigrationExecutor(dataSource, queryRunner);
        executor.transaction = 'all';
        await executor.undoLastMigration();
      } else {
        await runPending(dataSource, queryRunner);
      }
    });
    // After the lock's connection is back in the (one-connection) pool, which the schema builder uses.
    if (command === 'generate') await generate(dataSource, name);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

/** Writes migrations/<timestamp>-<Name>.ts with the SQL that brings the schema to the entities. */
async function generate(dataSource: DataSource, name: string): Promise<void> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  if (sql.upQueries.length === 0) {
    console.log('The entities match the schema: no migration needed');
    return;
  }
  const timestamp = Date.now();
  const lines = (queries: { query: string }[]) =>
    queries.map((q) => `    await queryRunner.query(${JSON.stringify(q.query)});`).join('\n');
  const file = resolve(__dirname, '..', '..', '..', 'migrations', `${timestamp}-${name}.ts`);
  await writeFile(
    file,
    `import { MigrationInterface, QueryRunner } from 'typeorm';

export class ${name}${timestamp} implements MigrationInterface {
  name = '${name}${timestamp}';

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(sql.upQueries)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines([...sql.downQueries].reverse())}
  }
}
`,
  );
  console.log(`Wrote ${file}: add ${name}${timestamp} to src/platform/database/migrations.ts`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
