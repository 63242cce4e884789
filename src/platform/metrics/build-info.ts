import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'panora-webhooks';

/**
 * The service's version, from its package.json: the nearest one above this file named
 * panora-webhooks, found the same way from src/ (ts-jest), dist/src/ (npm start) and the image's
 * /app/dist/src/. `unknown` when none is found, rather than failing the start for a label.
 */
export function serviceVersion(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && pkg.version) return pkg.version;
    } catch {
      // no package.json here (or not readable): look further up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
