import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { longFiles, sourceFiles } from '../test/support/layout';

/**
 * The whole service's layout (issue 14): a file does one job, and past about 300 lines it usually
 * does several. Module specs (e.g. endpoints/layout.spec.ts) add what is particular to them; the
 * layering and the public faces are checked by `npm run lint:deps` (.dependency-cruiser.cjs).
 */
describe('Source layout', () => {
  it('should keep every source file under 350 lines', () => {
    expect(longFiles(sourceFiles(__dirname), join(__dirname, '..'))).toEqual([]);
  });

  it('should give every Nest module folder an index.ts that exports its module', () => {
    const modules = sourceFiles(__dirname).filter((file) => file.endsWith('.module.ts') && dirname(file) !== __dirname);
    expect(modules.length).toBeGreaterThanOrEqual(10);
    const missing = modules.filter((file) => {
      const dir = dirname(file);
      const index = join(dir, 'index.ts');
      if (!readdirSync(dir).includes('index.ts')) return true;
      const className = /export class (\w+Module)\b/.exec(readFileSync(file, 'utf8'))?.[1];
      return (
        !className ||
        !new RegExp(`\\b${className}\\b[^;]*from '\\./${basename(file, '.ts')}'`).test(readFileSync(index, 'utf8'))
      );
    });
    expect(missing.map((file) => relative(__dirname, file))).toEqual([]);
  });
});
