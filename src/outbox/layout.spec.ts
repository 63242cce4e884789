import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sourceFiles } from '../../test/support/layout';

/**
 * The bus's layout (issue 14): files of one job each (file sizes: src/layout.spec.ts). Every
 * statement on outbox_messages (enqueue in the caller's transaction, the relay's claims, marks and
 * releases, the pruning, the backlog) lives in outbox.repository.ts; the relay keeps the loop and
 * the health, amqp-channel.ts the broker connection and confirms.
 */
const ROOT = __dirname;
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
/**
 * SQL, or a way to the database (the inbox's layout spec checks the same); `.transaction(...)` is
 * the hint of OutboxService.enqueue's error, not a call.
 */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.query\s*[<(]|\.transaction\((?!\.\.\.\))|createQueryBuilder|getRepository|@Inject(DataSource|Repository)\b|createQueryRunner/;
/** The files that may hold SQL or reach the database; entities declare the tables. */
const QUERY_FILES = ['outbox.repository.ts'];

describe('Bus layout', () => {
  it('should keep SQL out of every file but the repository', () => {
    const withSql = sourceFiles(ROOT)
      .map((file) => relative(ROOT, file))
      .filter((file) => !QUERY_FILES.includes(file) && !file.endsWith('.entity.ts'))
      .filter((file) => SQL.test(code(file)));
    expect(withSql).toEqual([]);
    expect(read('outbox.repository.ts')).toMatch(/pg_try_advisory_xact_lock/);
    expect(read('outbox.repository.ts')).toMatch(/pg_advisory_xact_lock\(\$1, hashtext\(k\)\)/);
  });

  it('should keep the relay free of amqplib connections', () => {
    expect(read('outbox-relay.service.ts')).not.toMatch(/\bconnect\(/);
  });
});
