// The servers under test and their databases. Everything started here is registered, so that
// `cleanup()` kills every child and drops every database the bench created, even on error.
import { fork, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BENCH_APP, freePort, log, sleep, waitReady } from './common.mjs';
import { TYPE } from './deliveries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const BENCH_DIR = resolve(here, '..');
export const ROOT = resolve(BENCH_DIR, '..');
export const MAIN_JS = resolve(ROOT, 'dist/src/main.js');
// The service runs with the Node flags of `npm start` (e.g. its young-generation cap).
export const START_FLAGS = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'))
  .scripts.start.split(/\s+/)
  .filter((word) => word.startsWith('--'));

const children = new Set();
const databases = new Set();
const clients = new Set();
let admin;
let embedded;

/** Connects to DATABASE_URL, or starts the embedded PostgreSQL the service itself would start. */
export async function openCluster() {
  let baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const { EmbeddedPostgresServer } = await import('../../dist/src/dev/embedded-postgres.js');
    embedded = new EmbeddedPostgresServer({
      dataDir: resolve(ROOT, '.data/bench'),
      port: await freePort(),
      database: 'postgres',
      logger: { log() {}, warn: log },
    });
    baseUrl = await embedded.start();
  }
  admin = await connect(baseUrl);
  const version = (await admin.query('SHOW server_version')).rows[0].server_version;
  return { baseUrl, admin, version, embedded: Boolean(embedded) };
}

/** A bench session (named BENCH_APP, so that no measurement counts it), closed by cleanup(). */
export async function connect(url) {
  const client = new pg.Client({ connectionString: url, application_name: BENCH_APP });
  await client.connect();
  clients.add(client);
  return client;
}

/** A fresh database in the cluster; returns its name and URL. */
export async function createDatabase(baseUrl, label) {
  const name = `bench_${label}_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  databases.add(name);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * panora-webhooks in production mode, as `npm start` runs it, on its own database; `shared` (the
 * keys of a running one) starts a second process of the same service on the same database.
 */
export async function startService(database, shared = {}) {
  const port = await freePort();
  const adminKey = shared.adminKey ?? randomBytes(18).toString('hex');
  const secretsKey = shared.secretsKey ?? randomBytes(32).toString('base64');
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '20',
    SECRETS_KEY: secretsKey,
    ADMIN_API_KEYS: adminKey,
    METRICS_PUBLIC: 'true', // production needs METRICS_TOKEN or this; the bench never scrapes /metrics
    LOG_LEVEL: 'warn',
  };
  if (process.env.RABBITMQ_URL) env.RABBITMQ_URL = process.env.RABBITMQ_URL;
  const child = track(
    spawn(process.execPath, [...START_FLAGS, MAIN_JS], { env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/health/ready`, child);
  const service = { child, pid: child.pid, url, database: database.name, databaseRef: database, adminKey, secretsKey };
  service.importEndpoint = async () => {
    const secret = randomUUID();
    const res = await fetch(`${url}/admin/endpoints/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ secret, scope: [TYPE] }),
    });
    if (res.status !== 201) throw new Error(`import answered ${res.status}: ${await res.text()}`);
    return { id: (await res.json()).id, secret };
  };
  service.db = await connect(database.url);
  /** Resolves once the inbox has nothing left to process; returns the seconds it took. */
  service.drain = async () => {
    const since = Date.now();
    // Polled every 100 ms through the dispatcher's own partial index: a count over the whole
    // inbox would load the machine it measures.
    for (;;) {
      const { pending } = (
        await service.db.query(
          `SELECT EXISTS (SELECT 1 FROM webhook_events WHERE status IN ('received', 'processing', 'failed')) AS pending`,
        )
      ).rows[0];
      if (!pending) return (Date.now() - since) / 1000;
      if (Date.now() - since > 600_000) throw new Error('backlog not drained after 10 min');
      await sleep(100);
    }
  };
  return service;
}

/** One of the reference servers in bench/, forked with `env`. */
export async function startReference(file, env = {}) {
  const port = await freePort();
  const child = track(
    fork(resolve(BENCH_DIR, file), [], {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  await new Promise((done, fail) => {
    child.once('message', done);
    child.once('exit', (code) => fail(new Error(`${file} exited ${code}`)));
  });
  return { child, pid: child.pid, url: `http://127.0.0.1:${port}` };
}

export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Kills every child, closes every session, drops every database the bench created. */
export async function cleanup() {
  await Promise.all([...children].map((child) => stop(child).catch(() => {})));
  for (const client of clients) if (client !== admin) await client.end().catch(() => {});
  for (const name of databases) {
    await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((e) => log(`drop ${name}: ${e.message}`));
  }
  databases.clear();
  await admin?.end().catch(() => {});
  admin = undefined;
  await embedded?.stop();
  embedded = undefined;
}
