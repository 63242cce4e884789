import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The registration module's layout (issue 14): files of one job under 350 lines; the queries of
 * its tables in EndpointsRepository (plus the change mark's statements in EndpointChangeLock and
 * the secret lookup of EndpointSecretsService), the rules in the services; no import cycle.
 */
const ROOT = __dirname;
/** The files that may hold SQL or TypeORM calls; entities declare the tables. */
const QUERY_FILES = ['endpoints.repository.ts', 'endpoint-change-lock.ts', 'endpoint-secrets.service.ts'];

const sources = readdirSync(ROOT)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
  .map((file) => join(ROOT, file));
const name = (file: string) => relative(ROOT, file);

/** The registration files a file imports at run time (relative imports inside src/registration, not `import type`). */
const imports = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+)'/gms)]
    .map((match) => `${resolve(dirname(file), match[1])}.ts`)
    .filter((path) => dirname(path) === ROOT);

describe('Registration layout', () => {
  it('should keep every source file of the module under 350 lines', () => {
    const long = sources
      .map((file) => [name(file), readFileSync(file, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 350);
    expect(long).toEqual([]);
  });

  it('should keep SQL and TypeORM calls out of the services, in the repository', () => {
    const querying = sources
      .filter((file) => !QUERY_FILES.includes(name(file)) && !name(file).endsWith('.entity.ts'))
      .filter((file) =>
        /\bmanager\.(query|insert|update|delete|find\w*)\(|\.query\(|createQueryBuilder|getRepository|@InjectDataSource|\b(SELECT|UPDATE|INSERT INTO|DELETE FROM)\s/.test(
          readFileSync(file, 'utf8'),
        ),
      )
      .map(name);
    expect(querying).toEqual([]);
  });

  it('should have a repository, and no import cycle (the entities included)', () => {
    expect(sources.map(name)).toContain('endpoints.repository.ts');
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (path.includes(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' → '));
        return;
      }
      for (const next of imports(file)) visit(next, [...path, file]);
    };
    for (const file of sources) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
