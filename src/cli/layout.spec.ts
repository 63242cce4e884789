import { join, relative } from 'node:path';
import { importCycles, runtimeImports, sourceFiles } from '../../test/support/layout';

/**
 * The CLI's layout (issue 14): main.ts composes, one file per command group under commands/,
 * printing in output.ts. Imports point down only: nothing imports main.ts, and no file of the CLI
 * reaches itself again through its relative imports. (File sizes: src/layout.spec.ts.)
 */
const ROOT = __dirname;

describe('CLI layout', () => {
  const files = sourceFiles(ROOT);
  const name = (file: string) => relative(ROOT, file);

  it('should have one file per command group under commands/', () => {
    expect(files.map(name).filter((file) => file.startsWith('commands/')).length).toBeGreaterThanOrEqual(4);
  });

  it('should import main.ts from nowhere and have no import cycle', () => {
    const main = join(ROOT, 'main.ts');
    expect(files.filter((file) => runtimeImports(file, ROOT).includes(main)).map(name)).toEqual([]);
    expect(importCycles(files, ROOT)).toEqual([]);
  });
});
