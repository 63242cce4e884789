import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The source files (not specs) under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Files of `files` longer than `max` lines, as [path relative to `root`, lines]. */
export function longFiles(files: string[], root: string, max = 350): [string, number][] {
  return files
    .map((file) => [relative(root, file), readFileSync(file, 'utf8').split('\n').length] as [string, number])
    .filter(([, lines]) => lines > max);
}

/** The files under `root` that `file` imports at run time (relative imports, not `import type`). */
export function runtimeImports(file: string, root: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+)'/gms)]
    .map((match) => `${resolve(dirname(file), match[1])}.ts`)
    .filter((path) => !relative(root, path).startsWith('..'));
}
