import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The connections module's layout (issue 14; file sizes: src/layout.spec.ts): the service holds
 * the rules, the outbox events and the views, the reconciler the schedule and the report,
 * connections.repository.ts the SQL (the reconciler's advisory lock included).
 */
const ROOT = __dirname;
const REPOSITORY = 'connections.repository.ts';
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
/**
 * SQL, a query API, or the DataSource itself. A service opens its transaction through the
 * repository (`connections.transaction(...)`), so only `dataSource.` / `manager.transaction(` count.
 */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|::(text|bigint|jsonb|timestamptz)\b|\.query\(|\b(dataSource|manager)\.transaction\(|createQueryBuilder|createQueryRunner|getRepository|InjectDataSource/;

describe('Connections layout', () => {
  it('should keep SQL out of every file of the module but its repository', () => {
    const files = readdirSync(ROOT).filter(
      (file) => file.endsWith('.ts') && file !== REPOSITORY && file !== 'layout.spec.ts',
    );
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((file) => SQL.test(code(file)))).toEqual([]);
  });

  it('should hold the row lock and the reconciler lock in the repository', () => {
    expect(read(REPOSITORY)).toMatch(/FOR UPDATE/);
    expect(read(REPOSITORY)).toMatch(/pg_try_advisory_lock/);
  });
});
