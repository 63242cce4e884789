import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MAIN_JS } from '../../support/process';

const ROOT = resolve(__dirname, '../../..');

/** Newest modification time of the sources the build compiles (specs excluded). */
function newestSource(): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const dir of ['src', 'migrations']) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || /\.(integration-)?spec\.ts$/.test(file)) continue;
      const { mtimeMs } = statSync(join(ROOT, dir, file));
      if (mtimeMs > newest.mtimeMs) newest = { file: `${dir}/${file}`, mtimeMs };
    }
  }
  return newest;
}

/**
 * These suites run the built service (`dist/src/main.js`, as production does). Stops with a clear
 * message when it is missing or older than a source file, rather than testing stale code.
 */
export function assertBuilt(): void {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
  const built = statSync(MAIN_JS).mtimeMs;
  const newest = newestSource();
  if (newest.mtimeMs > built + 1_000) {
    throw new Error(`${newest.file} changed after the last build: run \`npm run build\` first (npm test does)`);
  }
}
