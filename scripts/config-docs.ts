/**
 * Writes the configuration table into docs/configuration.md (between its markers) and writes
 * .env.example, both from the env schema's documentation (src/platform/config/env.docs.ts).
 * Run with `npm run docs:config`; src/platform/config/env.docs.spec.ts fails while either is out of step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, withConfigTable } from '../src/platform/config/env.docs';

const CONFIGURATION = 'docs/configuration.md';
const ENV_EXAMPLE = '.env.example';

function write(path: string, text: string): void {
  const before = readFileSync(path, { encoding: 'utf8', flag: 'a+' });
  if (before === text) {
    process.stdout.write(`${path}: up to date\n`);
    return;
  }
  writeFileSync(path, text);
  process.stdout.write(`${path}: written\n`);
}

write(CONFIGURATION, withConfigTable(readFileSync(CONFIGURATION, 'utf8')));
write(ENV_EXAMPLE, renderEnvExample());
