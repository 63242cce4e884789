import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { sourceFiles } from '../../test/support/layout';

/**
 * The inbox's layout (issue 14; file sizes: src/layout.spec.ts): its SQL on webhook_events and
 * webhook_event_listeners (the group commit's insert, the admin reads, the replays, the retention,
 * the backlog, the test event's lookup) lives in inbox.repository.ts (the stream's and the console's
 * own reads in their repositories); the services, the writer's
 * batching and the metrics call it. Entities declare the tables.
 */
const ROOT = __dirname;
/** The files that may hold SQL or reach the database. */
const QUERY_FILES = [
  'inbox.repository.ts',
  // The event stream's reads by stream position, and the console's figures: queries of their own.
  'events/event-stream.repository.ts',
  'stats/inbox-stats.repository.ts',
];
const name = (file: string) => relative(ROOT, file);
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
/** SQL, or a way to the database (the outbox's layout spec checks the same). */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.query\s*[<(]|\.transaction\((?!\.\.\.\))|createQueryBuilder|getRepository|@Inject(DataSource|Repository)\b|createQueryRunner/;

describe('Inbox layout', () => {
  it('should keep SQL out of every file but the repository', () => {
    const withSql = sourceFiles(ROOT)
      .filter((file) => !QUERY_FILES.includes(name(file)) && !name(file).endsWith('.entity.ts'))
      .filter((file) => SQL.test(code(file)))
      .map(name);
    expect(withSql).toEqual([]);
  });

  it('should keep the group commit on a public TypeORM path, never the driver internals', () => {
    expect(
      sourceFiles(ROOT)
        .filter((file) => /\.driver\b|\bmaster\b/.test(code(file)))
        .map(name),
    ).toEqual([]);
  });
});
