import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sourceFiles } from '../../test/support/layout';

/**
 * Recovery's layout (issue 15; file sizes: src/layout.spec.ts): its SQL on recovery_state,
 * recovery_missed_events and recovery_crm_reads, and its advisory lock, live in
 * recovery.repository.ts; the detector, the recoverer, the CRM re-reader and the service keep the
 * logic and call Panora outside any transaction.
 */
const ROOT = __dirname;
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
/**
 * SQL, or a way to the database. A service opens its transaction through the repository
 * (`repository.transaction(...)`), so only `dataSource.` / `manager.transaction(` count (as in the
 * connections module's spec).
 */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.query\s*[<(]|\b(dataSource|manager)\.transaction\(|createQueryBuilder|getRepository|@Inject(DataSource|Repository)\b|InjectDataSource|createQueryRunner/;
/** The files that may hold SQL or reach the database. */
const QUERY_FILES = ['recovery.repository.ts'];

describe('Recovery layout', () => {
  it('should keep SQL out of every file but the repository', () => {
    const files = sourceFiles(ROOT).map((file) => relative(ROOT, file));
    expect(files.length).toBeGreaterThan(8);
    expect(files.filter((file) => !QUERY_FILES.includes(file)).filter((file) => SQL.test(code(file)))).toEqual([]);
  });

  it('should hold the one-instance lock in the repository', () => {
    expect(read('recovery.repository.ts')).toMatch(/pg_try_advisory_lock/);
  });
});
