import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The CRM module's layout (issue 14; file sizes: src/layout.spec.ts): crm.repository.ts holds the
 * module's SQL (the projection writes, the read API's paging by change order); the services keep
 * the logic (which statement, in which transaction, with which outbox events) and the mapping.
 */
const ROOT = __dirname;
const REPOSITORY = 'crm.repository.ts';
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
/**
 * SQL, a query API, or the DataSource itself. A service opens its transaction through the
 * repository (`crm.transaction(...)`), so only `dataSource.` / `manager.transaction(` count.
 */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|::(text|bigint|jsonb|timestamptz)\b|\.query\(|\b(dataSource|manager)\.transaction\(|createQueryBuilder|createQueryRunner|getRepository|InjectDataSource/;

describe('CRM layout', () => {
  it('should keep SQL out of every file of the module but its repository', () => {
    const files = readdirSync(ROOT).filter(
      (file) => file.endsWith('.ts') && file !== REPOSITORY && file !== 'layout.spec.ts',
    );
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((file) => SQL.test(code(file)))).toEqual([]);
  });

  it('should hold the projection writes and the change-order paging in the repository', () => {
    const sql = read(REPOSITORY);
    expect(sql).toMatch(/ON CONFLICT \(kind, panora_id\) DO UPDATE/);
    expect(sql).toMatch(/pg_current_snapshot\(\)/);
    expect(sql).toMatch(/ORDER BY change_xid, change_seq/);
  });
});
