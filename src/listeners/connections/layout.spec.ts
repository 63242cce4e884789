import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The connections module's layout (issue 14; file sizes: src/layout.spec.ts): the service holds
 * the rules, the outbox events and the views, connections.repository.ts the SQL.
 */
const ROOT = __dirname;
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');
/** The code of a file, its comments taken out (they may name SQL statements). */
const code = (file: string): string => read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
const SQL = /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.query\(|createQueryBuilder|getRepository/;

describe('Connections layout', () => {
  it('should keep SQL out of the service, in the repository', () => {
    expect(code('connections.service.ts')).not.toMatch(SQL);
    expect(read('connections.repository.ts')).toMatch(/FOR UPDATE/);
  });
});
