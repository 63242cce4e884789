import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One built file, kept in memory with its gzip form (the console is a few files, ~100 KB). */
export interface ConsoleAsset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  /** Names with a content hash (assets/app-XXXX.js) never change: cached for a year. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * `npm run build` writes the console to dist/console (console/build.mjs), beside the compiled
 * service. This file runs from dist/src/console when built and from src/console under ts-jest: the
 * package root (the folder with package.json) is found from either.
 */
export function consoleAssetsDir(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'console');
}

/** The built console by URL path below /console (`index.html`, `assets/app-XXXX.js`), or null if not built. */
export function loadConsoleAssets(dir = consoleAssetsDir()): Map<string, ConsoleAsset> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const assets = new Map<string, ConsoleAsset>();
  const add = (path: string, immutable: boolean) => {
    const type = TYPES[extname(path)];
    if (!type) return;
    const body = readFileSync(join(dir, path));
    assets.set(path, { body, gzip: gzipSync(body, { level: 9 }), type, immutable });
  };
  add('index.html', false);
  if (existsSync(join(dir, 'assets'))) {
    for (const name of readdirSync(join(dir, 'assets'))) add(`assets/${name}`, true);
  }
  return assets;
}
