// Builds the operator console (console/src) into dist/console: one script and one style sheet
// with content hashes in their names, and index.html naming them. Run by `npm run build` after
// `nest build` (which empties dist/); tests call buildConsole() before driving the page.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds into `outDir` (default dist/console); answers the files written, relative to it. */
export async function buildConsole({ outDir = join(here, '..', 'dist', 'console') } = {}) {
  await rm(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { app: join(here, 'src', 'main.tsx') },
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    tsconfig: join(here, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => relative(outDir, file));
  const script = outputs.find((file) => file.endsWith('.js'));
  const style = outputs.find((file) => file.endsWith('.css'));
  if (!script || !style) throw new Error(`console build: expected a .js and a .css, got ${outputs.join(', ')}`);
  const template = await readFile(join(here, 'index.html'), 'utf8');
  const html = template.replace('%SCRIPT%', `/console/${script}`).replace('%STYLE%', `/console/${style}`);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'index.html'), html);
  return ['index.html', ...outputs];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildConsole();
  console.log(`console built: ${files.join(', ')}`);
}
