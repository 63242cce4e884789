import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, resolve, sep } from 'node:path';
import type { Logger } from '@nestjs/common';

/**
 * As root, PostgreSQL runs as the `postgres` OS user, which must be able to pass through every
 * folder above its binaries (in node_modules) and its data. A checkout in a 0700 folder (a
 * `mktemp -d`, /root) blocks it: such folders get the search bit for others (o+x: pass through,
 * not list), and the change is logged.
 */
export function ensureTraversable(paths: string[], logger: Pick<Logger, 'warn'>): void {
  if (process.getuid?.() !== 0) return;
  const changed = new Set<string>();
  for (const path of paths) {
    const parts = resolve(path).split(sep);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join(sep) || sep;
      if (!existsSync(dir) || changed.has(dir)) continue;
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) {
        chmodSync(dir, (mode & 0o7777) | 0o001);
        changed.add(dir);
      }
    }
  }
  if (changed.size > 0) {
    logger.warn(
      `Allowed the postgres user to pass through ${[...changed].join(', ')} (o+x) so the embedded PostgreSQL can run`,
    );
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a live PostgreSQL server (postmaster) of `clusterDir` ('ours'), anything else
 * or nothing ('other'), or cannot be told (its command line is hidden from this user).
 */
export function postmasterOf(pid: number, clusterDir: string): 'ours' | 'other' | 'unknown' {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return 'other';
  const args = commandLine(pid);
  if (!args) return 'unknown';
  if (!['postgres', 'postmaster'].includes(basename(args[0] ?? ''))) return 'other';
  const flag = args.indexOf('-D');
  const dataDir = flag >= 0 ? args[flag + 1] : readLink(`/proc/${pid}/cwd`); // postgres runs in its data dir
  if (dataDir === undefined) return 'unknown';
  return samePath(dataDir, clusterDir) ? 'ours' : 'other';
}

/** A process's arguments: /proc on Linux, `ps` elsewhere (split on spaces: enough to find `-D`). */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((arg) => arg.length > 0);
  } catch {
    try {
      return execFileSync('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { encoding: 'utf8' })
        .trim()
        .split(/\s+/);
    } catch {
      return undefined;
    }
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function samePath(a: string, b: string): boolean {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  return real(a) === real(b);
}
