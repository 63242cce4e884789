import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const MAIN_JS = resolve(__dirname, '../../dist/src/main.js');

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs a command with only the given environment (and PATH, HOME), collecting its output. */
export function spawnProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; detached?: boolean } = {},
): ServiceProcess {
  const child = spawn(command, args, {
    ...options,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, output: () => output, exited };
}

/** Runs the built service (`node dist/src/main.js`, as `npm start` does) with the given environment. */
export function spawnService(env: Record<string, string>): ServiceProcess {
  return spawnProcess(process.execPath, [MAIN_JS], env);
}

/** `npm run migration:run` without its build step: the built migration command. */
export function spawnMigrate(env: Record<string, string>): ServiceProcess {
  return spawnProcess(process.execPath, [resolve(MAIN_JS, '..', 'platform', 'database', 'migrate.js'), 'run'], env);
}

/** Polls a URL until it answers 200, or throws with the service's output after `timeoutMs`. */
export async function waitForOk(url: string, service: ServiceProcess, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (service.child.exitCode !== null) throw new Error(`service exited early:\n${service.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${service.output()}`);
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export const ROOT = resolve(__dirname, '../..');

/**
 * Runs `npm start --ignore-scripts` in the project folder with only the given environment (no
 * DATABASE_URL from the test run). `--ignore-scripts` skips only the `prestart` build (the tests
 * run against a build already made); the start script itself runs as in real use: npm, the
 * script's shell, the service.
 */
export function spawnNpmStart(env: Record<string, string>, { detached = false } = {}): ServiceProcess {
  // Its own process group, as a shell gives a foreground job: `process.kill(-pid, 'SIGINT')` is Ctrl-C.
  return spawnProcess('npm', ['start', '--ignore-scripts'], env, { cwd: ROOT, detached });
}

/** A live process's command line (Linux /proc), or undefined once it is gone. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Every live descendant of `pid` (children, their children, ...), from /proc (Linux). */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name before it is in parentheses and may hold spaces.
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parents) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}
