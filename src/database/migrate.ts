import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { ConfigError, parseEnv } from '../config/env.schema';
import { dataSourceOptions } from './data-source.options';
import { EmbeddedPostgresServer } from './embedded-postgres';

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
    : new EmbeddedPostgresServer({ dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, shareRunning: true });
  const url = env.DATABASE_URL ?? (await embedded!.start());
  const dataSource = new DataSource({
    ...dataSourceOptions({ url, poolSize: 2 }),
    entities: [join(__dirname, '..', '**', '*.entity.js')],
    logging: ['schema', 'migration', 'error'],
  });
  try {
    await dataSource.initialize();
    if (command === 'run') {
      const applied = await dataSource.runMigrations({ transaction: 'all' });
      console.log(applied.length ? `Applied ${applied.map((m) => m.name).join(', ')}` : 'No pending migrations');
    } else if (command === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'all' });
    } else {
      await generate(dataSource, name);
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

/** Writes migrations/<timestamp>-<Name>.ts with the SQL that brings the schema to the entities. */
async function generate(dataSource: DataSource, name: string): Promise<void> {
  await dataSource.runMigrations({ transaction: 'all' });
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
  console.log(`Wrote ${file}: add ${name}${timestamp} to src/database/migrations.ts`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
