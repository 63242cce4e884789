import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The bus's layout (issue 14): files of one job each (file sizes: src/layout.spec.ts). The relay keeps the
 * loop and the health; its SQL lives in outbox.repository.ts, the broker connection and confirms
 * in amqp-channel.ts.
 */
const ROOT = __dirname;
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.query\(|\.transaction\(|createQueryBuilder|getRepository/;

describe('Bus layout', () => {
  it('should keep the relay and its broker channel free of SQL, and the relay free of amqplib connections', () => {
    expect(['outbox-relay.service.ts', 'amqp-channel.ts'].filter((file) => SQL.test(code(file)))).toEqual([]);
    expect(read('outbox-relay.service.ts')).not.toMatch(/\bconnect\(/);
    expect(read('outbox.repository.ts')).toMatch(/pg_try_advisory_xact_lock/);
  });
});
