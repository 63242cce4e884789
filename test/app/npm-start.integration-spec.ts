import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/panora';
import {
  commandLineOf,
  descendantsOf,
  freePort,
  MAIN_JS,
  ServiceProcess,
  spawnNpmStart,
  waitForOk,
} from '../support/process';

/** initdb and a first start on a busy 2-core machine can take a while: generous, still bounded. */
const START_DEADLINE_MS = 90_000;

/** Opens a TCP connection: true when the port accepted it, false when it refused it. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolveAccepts(true);
    });
    socket.once('error', () => resolveAccepts(false));
  });
}

describe('npm start', () => {
  let dataDir: string;
  let npm: ServiceProcess | undefined;
  /** Every process `npm start` ran (shell, service, PostgreSQL), for the assertions and the clean-up. */
  let tree: number[] = [];

  beforeAll(() => {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
    dataDir = mkdtempSync(join(tmpdir(), 'panora-webhooks-npm-start-'));
  });

  afterAll(() => {
    // Whatever outlived the test (the defect this file is about) must not keep ports or the folder.
    for (const pid of [npm?.child.pid, ...tree]) {
      if (pid !== undefined && commandLineOf(pid) !== undefined) process.kill(pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should stop the service and its embedded PostgreSQL when npm gets SIGTERM, freeing the port', async () => {
    const port = await freePort();
    const postgresPort = await freePort();
    npm = spawnNpmStart({
      PORT: String(port),
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(postgresPort),
      LOG_LEVEL: 'info',
    });
    await waitForOk(`http://127.0.0.1:${port}/health/ready`, npm, START_DEADLINE_MS);

    tree = descendantsOf(npm.child.pid!);
    const service = tree.find((pid) => commandLineOf(pid)?.includes('dist/src/main.js'));
    const postmaster = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(service).toBeDefined();
    expect(tree).toContain(postmaster);
    expect(await accepts(postgresPort)).toBe(true);

    // What a process manager, `kill <pid>` or `docker stop` of an npm-started container does.
    npm.child.kill('SIGTERM');
    const code = await npm.exited;

    // Bounded waits for the end state, then one assertion that names whatever is left.
    await waitFor(
      async () => tree.every((pid) => commandLineOf(pid) === undefined) && !(await accepts(port)),
      30_000,
      'every process of the run to end',
    ).catch(() => undefined);
    expect(tree.map(commandLineOf).filter((left) => left !== undefined)).toEqual([]);
    expect({ service: await accepts(port), postgres: await accepts(postgresPort) }).toEqual({
      service: false,
      postgres: false,
    });
    expect(npm.output()).toContain('SIGTERM received, shutting down');
    expect(code).toBe(0);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('should shut down gracefully, exit code 0, on Ctrl-C in a terminal (SIGINT to the whole process group)', async () => {
    const port = await freePort();
    const postgresPort = await freePort();
    // The terminal signals npm and the service alike, and npm forwards its own copy to the service.
    const run = spawnNpmStart(
      { PORT: String(port), DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(postgresPort), LOG_LEVEL: 'info' },
      { detached: true },
    );
    npm = run;
    await waitForOk(`http://127.0.0.1:${port}/health/ready`, run, START_DEADLINE_MS);
    tree = descendantsOf(run.child.pid!);

    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    await waitFor(
      async () => tree.every((pid) => commandLineOf(pid) === undefined),
      30_000,
      'every process of the run to end',
    ).catch(() => undefined);
    expect(tree.map(commandLineOf).filter((left) => left !== undefined)).toEqual([]);
    expect(run.output().match(/SIGINT received, shutting down/g)).toHaveLength(1);
    // The embedded database was stopped by the service (not left to the signal): the folder is free.
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });
});
