import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The CLI's layout (issue 14): main.ts composes, one file per command group under commands/,
 * printing in output.ts. Imports point down only: nothing imports main.ts, and no file of the CLI
 * reaches itself again through its relative imports.
 */
const ROOT = __dirname;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });

/** The CLI files a file imports (relative imports inside src/cli only). */
const imports = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)]
    .map((match) => `${resolve(dirname(file), match[1])}.ts`)
    .filter((path) => !relative(ROOT, path).startsWith('..'));

describe('CLI layout', () => {
  const files = sources(ROOT);
  const name = (file: string) => relative(ROOT, file);

  it('should keep every source file of the CLI under 350 lines', () => {
    const long = files
      .map((file) => [name(file), readFileSync(file, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 350);
    expect(long).toEqual([]);
  });

  it('should have one file per command group under commands/', () => {
    expect(files.map(name).filter((file) => file.startsWith('commands/')).length).toBeGreaterThanOrEqual(4);
  });

  it('should import main.ts from nowhere and have no import cycle', () => {
    const main = join(ROOT, 'main.ts');
    expect(files.filter((file) => imports(file).includes(main)).map(name)).toEqual([]);
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (path.includes(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' → '));
        return;
      }
      for (const next of imports(file)) visit(next, [...path, file]);
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
