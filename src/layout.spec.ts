import { join } from 'node:path';
import { longFiles, sourceFiles } from '../test/support/layout';

/**
 * The whole service's layout (issue 14): a file does one job, and past about 300 lines it usually
 * does several. Module specs (e.g. endpoints/layout.spec.ts) add what is particular to them.
 */
describe('Source layout', () => {
  it('should keep every source file under 350 lines', () => {
    expect(longFiles(sourceFiles(__dirname), join(__dirname, '..'))).toEqual([]);
  });
});
