import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { assertBuilt } from '../faults/support/build';
import { waitFor } from '../support/panora';
import { EmbeddedPostgresServer } from '../../src/dev/embedded-postgres';
import { commandLineOf, descendantsOf, freePort } from '../support/process';

const RUNNER = resolve(__dirname, '../support/embedded-start.cjs');
/** initdb and a start on a busy 2-core machine can take a while: generous, still bounded. */
const DEADLINE_MS = 90_000;
/** A round costs about a PostgreSQL start and stop; many rounds make a narrow race show up. */
const ROUNDS = Number(process.env.OWNER_RACE_ROUNDS ?? 40);

interface Runner {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  exited: Promise<number | null>;
}

/** A process that calls the built EmbeddedPostgresServer's start() on `go` (test/support/embedded-start.cjs). */
function startRunner(env: Record<string, string>): Runner {
  const child = spawn(process.execPath, [RUNNER], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => lines.push(`stderr: ${chunk.toString()}`));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, lines, exited };
}

/** A pid that no process has any more. */
function deadPid(): number {
  return spawnSync('true').pid;
}

describe('Embedded PostgreSQL: the owner of DATA_DIR', () => {
  let dataDir: string;
  let port: number;
  let runners: Runner[] = [];
  const postgresProcesses = new Set<number>();

  beforeAll(async () => {
    assertBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'panora-webhooks-owner-'));
    port = await freePort();
  });

  /** Every runner ever started, for the clean-up. */
  const all: Runner[] = [];

  afterAll(async () => {
    for (const runner of all) {
      for (const pid of descendantsOf(runner.child.pid!)) postgresProcesses.add(pid);
      if (runner.child.exitCode === null && runner.child.signalCode === null) runner.child.kill('SIGKILL');
    }
    await Promise.all(all.map((runner) => runner.exited));
    for (const pid of postgresProcesses) if (commandLineOf(pid) !== undefined) process.kill(pid, 'SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('should let exactly one of three starts racing over a stale owner record proceed, the others refused with one line', async () => {
    const spawnRunner = () => {
      const runner = startRunner({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(port) });
      all.push(runner);
      return runner;
    };
    runners = [1, 2, 3].map(spawnRunner);
    await waitFor(async () => runners.every((r) => r.lines.includes('ready')), DEADLINE_MS, 'three loaded runners');
    const clusterDir = join(dataDir, 'postgres');

    for (let round = 1; round <= ROUNDS; round++) {
      // Besides whatever the last round left: the record a process killed long ago left behind (the
      // format every version reads).
      writeFileSync(join(dataDir, 'postgres.owner'), JSON.stringify({ pid: deadPid(), startTime: '1', bootId: null }));
      const seen = runners.map((r) => r.lines.length);
      // All three loaded and waiting, released together: the race is on the owner record.
      for (const runner of runners) runner.child.stdin.write('go\n');
      const answers = () =>
        runners.map((r, i) => r.lines.slice(seen[i]).find((line) => /^(started|refused)/.test(line)));
      await waitFor(async () => answers().every(Boolean), DEADLINE_MS, `every start of round ${round} to answer`);

      const winners = runners.filter((_, i) => answers()[i] === 'started');
      expect({ round, winners: winners.length, answers: answers() }).toEqual({
        round,
        winners: 1,
        answers: expect.any(Array) as unknown,
      });
      const [winner] = winners;
      const refused = answers().filter((answer) => answer !== 'started');
      expect({ round, refused }).toEqual({
        round,
        refused: [1, 2].map(
          () =>
            `refused The embedded database in ${clusterDir} is in use by process ${winner.child.pid}; stop it first or set DATABASE_URL`,
        ),
      });

      // The winner's database is up and stays up: no other start stopped it.
      const { password } = JSON.parse(readFileSync(join(dataDir, 'postgres-credentials.json'), 'utf8')) as {
        password: string;
      };
      const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
      await client.connect();
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();

      for (const pid of descendantsOf(winner.child.pid!)) postgresProcesses.add(pid);
      if (round % 4 === 0) {
        // A crash: the owner killed, its claim stale, its postmaster still running; a new process
        // takes its place in the next race.
        winner.child.kill('SIGKILL');
        await winner.exited;
        const fresh = spawnRunner();
        await waitFor(async () => fresh.lines.includes('ready'), DEADLINE_MS, 'a new runner');
        runners = runners.map((runner) => (runner === winner ? fresh : runner));
      } else {
        const before = winner.lines.length;
        winner.child.stdin.write('stop\n');
        await waitFor(async () => winner.lines.slice(before).includes('stopped'), DEADLINE_MS, `round ${round}'s stop`);
      }
    }

    for (const runner of runners) runner.child.stdin.end();
    expect(await Promise.all(runners.map((runner) => runner.exited))).toEqual([0, 0, 0]);
  });

  it('should stop, releasing DATA_DIR, when its postmaster already exited (a Ctrl-C reaches postgres too)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'panora-webhooks-stop-'));
    const server = new EmbeddedPostgresServer({
      dataDir: folder,
      port: await freePort(),
      logger: { log: () => undefined, warn: () => undefined },
    });
    try {
      await server.start();
      const postmaster = Number(readFileSync(join(folder, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(postmaster, 'SIGINT'); // PostgreSQL's fast shutdown, as the terminal's Ctrl-C does
      await waitFor(async () => commandLineOf(postmaster) === undefined, DEADLINE_MS, 'the postmaster to exit');

      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        server.stop().then(() => 'stopped'),
        new Promise<string>((resolveLate) => (timer = setTimeout(() => resolveLate('stop() still pending'), 30_000))),
      ]);
      clearTimeout(timer);
      expect(outcome).toBe('stopped');
      // Released: another start on the folder proceeds.
      const next = new EmbeddedPostgresServer({
        dataDir: folder,
        port: await freePort(),
        logger: { log: () => undefined, warn: () => undefined },
      });
      await next.start();
      await next.stop();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
