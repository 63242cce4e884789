import { join, relative } from 'node:path';
import { runtimeImports, sourceFiles } from '../../test/support/layout';

/**
 * The CLI's layout (issue 14): main.ts composes, one file per command group under commands/,
 * printing in output.ts. Imports point down only: nothing imports main.ts. (File sizes:
 * src/layout.spec.ts.)
 */
const ROOT = __dirname;

describe('CLI layout', () => {
  const files = sourceFiles(ROOT);
  const name = (file: string) => relative(ROOT, file);

  it('should have one file per command group under commands/', () => {
    expect(files.map(name).filter((file) => file.startsWith('commands/')).length).toBeGreaterThanOrEqual(4);
  });

  // Import cycles, here and everywhere in src/: npm run lint:deps (.dependency-cruiser.cjs).
  it('should import main.ts from nowhere', () => {
    const main = join(ROOT, 'main.ts');
    expect(files.filter((file) => runtimeImports(file, ROOT).includes(main)).map(name)).toEqual([]);
  });
});
