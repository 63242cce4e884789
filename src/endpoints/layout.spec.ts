import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { sourceFiles } from '../../test/support/layout';

/**
 * The registration module's layout (issue 14; file sizes: src/layout.spec.ts): the queries of
 * its tables in EndpointsRepository (plus the change mark's statements in EndpointChangeLock and
 * the secret lookup of EndpointSecretsService), the rules in the services; no import cycle.
 */
const ROOT = __dirname;
/** The files that may hold SQL or TypeORM calls; entities declare the tables. */
const QUERY_FILES = ['endpoints.repository.ts', 'endpoint-change-lock.ts', 'endpoint-secrets.service.ts'];

const sources = sourceFiles(ROOT);
const name = (file: string) => relative(ROOT, file);

describe('Registration layout', () => {
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

  // Import cycles, here and everywhere in src/: npm run lint:deps (.dependency-cruiser.cjs).
  it('should have a repository', () => {
    expect(sources.map(name)).toContain('endpoints.repository.ts');
  });
});
