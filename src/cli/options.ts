/** The global options, their defaults from the environment, and the parsers options share. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { AdminClient } from './admin-client';

export interface GlobalOptions {
  url: string;
  key?: string;
  json?: boolean;
}

export function defaults(): { url: string; key?: string } {
  // The service's own .env, so the CLI finds the same port and admin key (the environment wins).
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = process.env;
  const key =
    env.ADMIN_API_KEY?.trim() ||
    env.ADMIN_API_KEYS?.split(',')
      .find((k) => k.trim())
      ?.trim();
  return { url: env.PANORA_WEBHOOKS_URL?.trim() || `http://localhost:${env.PORT?.trim() || 3000}`, key };
}

/** The package's version: its package.json is above this file, in src/cli/ as in dist/src/cli/. */
export function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'panora-webhooks' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** The admin API of the service the global options point at. */
export function client(command: Command): AdminClient {
  const { url, key } = globals(command);
  // The key from the environment is not a commander default: help would print it.
  return new AdminClient({ baseUrl: url, key: key ?? defaults().key });
}

export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return parsed;
}

/** A repeatable, comma-separated option: `--scope a,b --scope c` → `['a', 'b', 'c']`. */
export const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
];
