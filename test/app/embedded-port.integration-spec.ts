import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresServer } from '../../src/dev/embedded-postgres';
import { delivery, post } from '../support/panora';
import {
  commandLineOf,
  descendantsOf,
  freePort,
  MAIN_JS,
  ServiceProcess,
  spawnService,
  waitForOk,
} from '../support/process';

/** initdb and a first start on a busy 2-core machine can take a while: generous, still bounded. */
const START_DEADLINE_MS = 120_000;
/** Three starts (two at once, one initdb each) and a stop. */
const TEST_TIMEOUT_MS = 4 * START_DEADLINE_MS;
const ADMIN_KEY = 'embedded-port-admin-key-0123456789';

/** Holds 127.0.0.1:port, as another program on the machine would. */
function occupy(port: number): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveServer(server));
  });
}

const recordedPort = (dataDir: string) => Number(readFileSync(join(dataDir, 'postgres.port'), 'utf8').trim());

/** A query on the embedded server of `dataDir`, over the port it recorded, with its credentials. */
async function selectOne(dataDir: string): Promise<unknown> {
  const { password } = JSON.parse(readFileSync(join(dataDir, 'postgres-credentials.json'), 'utf8')) as {
    password: string;
  };
  const client = new Client({ host: '127.0.0.1', port: recordedPort(dataDir), user: 'postgres', password });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows;
  } finally {
    await client.end();
  }
}

describe('Embedded PostgreSQL port (EMBEDDED_POSTGRES_PORT unset)', () => {
  const folders: string[] = [];
  const services: ServiceProcess[] = [];
  const leftovers = new Set<number>();
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'panora-webhooks-port-'));
    folders.push(dir);
    return dir;
  };

  beforeAll(() => {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
  });

  afterAll(async () => {
    for (const { child } of services) {
      for (const pid of descendantsOf(child.pid!)) leftovers.add(pid);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all(services.map(({ exited }) => exited));
    for (const pid of leftovers) if (commandLineOf(pid) !== undefined) process.kill(pid, 'SIGKILL');
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'should start two services side by side, one per DATA_DIR, each receiving deliveries, and reuse its port on restart',
    async () => {
      // Two clones: their own DATA_DIR and HTTP port, no EMBEDDED_POSTGRES_PORT, started at once.
      const clones = await Promise.all(
        [1, 2].map(async () => ({
          DATA_DIR: folder(),
          PORT: String(await freePort()),
          LOG_LEVEL: 'info',
          ADMIN_API_KEYS: ADMIN_KEY,
        })),
      );
      const started = clones.map((env) => spawnService(env));
      services.push(...started);
      await Promise.all(
        started.map((service, i) =>
          waitForOk(`http://127.0.0.1:${clones[i].PORT}/health/ready`, service, START_DEADLINE_MS),
        ),
      );

      const ports = clones.map(({ DATA_DIR }) => recordedPort(DATA_DIR));
      expect(new Set(ports).size).toBe(2);
      started.forEach((service, i) =>
        expect(service.output()).toMatch(
          new RegExp(
            `Embedded PostgreSQL listening on 127\\.0\\.0\\.1:${ports[i]} \\(a free port, now recorded in ${clones[i].DATA_DIR}/postgres\\.port`,
          ),
        ),
      );

      // Each takes a signed delivery into its own database.
      for (const { PORT } of clones) {
        const base = `http://127.0.0.1:${PORT}`;
        const secret = 'c0ffee00-5d1e-4c3b-9a7f-2e6d8c4b1a90';
        const imported = await fetch(`${base}/admin/endpoints/import`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ secret, scope: ['connection.created'] }),
        });
        expect(imported.status).toBe(201);
        const { id } = (await imported.json()) as { id: string };
        const d = delivery({ secret, type: 'connection.created', payload: { id_connection: `c-${PORT}` } });
        expect((await post(`${base}/webhooks/panora/${id}`, d)).status).toBe(200);
      }

      // The first clone stops and starts again: same port, now from its record.
      const [first] = started;
      for (const pid of descendantsOf(first.child.pid!)) leftovers.add(pid);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const again = spawnService(clones[0]);
      services.push(again);
      await waitForOk(`http://127.0.0.1:${clones[0].PORT}/health/ready`, again, START_DEADLINE_MS);
      expect(again.output()).toContain(
        `Embedded PostgreSQL listening on 127.0.0.1:${ports[0]} (port recorded in ${clones[0].DATA_DIR}/postgres.port;`,
      );
      expect(recordedPort(clones[0].DATA_DIR)).toBe(ports[0]);
    },
    TEST_TIMEOUT_MS,
  );

  describe('when a port is taken by another program', () => {
    let dataDir: string;
    const warnings: string[] = [];
    const logger = { log: () => undefined, warn: (message: string) => warnings.push(message) };

    beforeAll(() => {
      dataDir = folder();
    });

    it(
      'should move off a recorded port that is taken, say so, and record the new one',
      async () => {
        const taken = await freePort();
        const blocker = await occupy(taken);
        writeFileSync(join(dataDir, 'postgres.port'), `${taken}\n`);
        const server = new EmbeddedPostgresServer({ dataDir, logger });
        try {
          const url = new URL(await server.start());
          expect(Number(url.port)).not.toBe(taken);
          expect(recordedPort(dataDir)).toBe(Number(url.port));
          expect(await selectOne(dataDir)).toEqual([{ one: 1 }]);
          expect(warnings).toContain(
            `port ${taken} recorded in ${join(dataDir, 'postgres.port')} is taken: embedded PostgreSQL uses port ${url.port}`,
          );
        } finally {
          await server.stop();
          blocker.close();
        }
      },
      START_DEADLINE_MS,
    );

    it('should stop with one line naming EMBEDDED_POSTGRES_PORT when the port it sets is taken', async () => {
      const taken = await freePort();
      const blocker = await occupy(taken);
      const recorded = recordedPort(dataDir);
      const server = new EmbeddedPostgresServer({ dataDir, port: taken, logger });
      try {
        await expect(server.start()).rejects.toThrow(
          `Embedded PostgreSQL did not start: port ${taken} (EMBEDDED_POSTGRES_PORT) is taken; choose another, or unset it to have a free port chosen`,
        );
        // A port set by the operator is not recorded: the folder's own stays for starts without it.
        expect(recordedPort(dataDir)).toBe(recorded);
      } finally {
        await server.stop();
        blocker.close();
      }
    });
  });
});
