import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/**
 * The port tried first when neither EMBEDDED_POSTGRES_PORT nor a recorded port says otherwise: the
 * fixed port of earlier versions, so a clone that ran before keeps the port its tools point at.
 */
export const PREFERRED_EMBEDDED_PORT = 54329;

/** How the port of an embedded PostgreSQL start was decided; said in the start-up log line. */
export type PortSource = 'EMBEDDED_POSTGRES_PORT' | 'recorded' | 'preferred' | 'picked';

export interface PortChoice {
  port: number;
  source: PortSource;
  /** Why the recorded (or preferred) port was not used, for the log. */
  note?: string;
}

/**
 * Chooses and records the embedded PostgreSQL's port when EMBEDDED_POSTGRES_PORT is unset, so two
 * clones (two DATA_DIRs) on one machine start side by side: the port recorded in
 * `<DATA_DIR>/postgres.port` when it is free, else 54329 when free, else one the system hands out.
 * The record is written once a server listens on the port, so the next start of the same folder
 * asks for the same port and tools pointed at it keep working.
 *
 * Between the check and PostgreSQL's own bind another process may take the port: the caller then
 * asks for another (`next`), which only an unset EMBEDDED_POSTGRES_PORT allows.
 */
export class EmbeddedPort {
  private readonly recordFile: string;

  constructor(
    dataDir: string,
    private readonly configured: number | undefined,
  ) {
    this.recordFile = resolve(dataDir, 'postgres.port');
  }

  get file(): string {
    return this.recordFile;
  }

  /** Whether a failed start may be retried on another port (the port was not set by the operator). */
  get chosen(): boolean {
    return this.configured === undefined;
  }

  async first(): Promise<PortChoice> {
    if (this.configured !== undefined) return { port: this.configured, source: 'EMBEDDED_POSTGRES_PORT' };
    const recorded = await this.recorded();
    if (recorded !== undefined) {
      if (await isFree(recorded)) return { port: recorded, source: 'recorded' };
      return { ...(await this.next()), note: `port ${recorded} recorded in ${this.recordFile} is taken` };
    }
    if (await isFree(PREFERRED_EMBEDDED_PORT)) return { port: PREFERRED_EMBEDDED_PORT, source: 'preferred' };
    return { ...(await this.next()), note: `port ${PREFERRED_EMBEDDED_PORT} is taken` };
  }

  /** Whether 127.0.0.1:port can be bound now (PostgreSQL listens there and only there). */
  isFree(port: number): Promise<boolean> {
    return isFree(port);
  }

  /** A port free right now, handed out by the system. */
  async next(): Promise<PortChoice> {
    return { port: await systemPort(), source: 'picked' };
  }

  /** Remembers the port a server now listens on, for the next start of this folder. */
  async record(port: number): Promise<void> {
    if (!this.chosen || (await this.recorded()) === port) return;
    await writeFile(this.recordFile, `${port}\n`);
  }

  private async recorded(): Promise<number | undefined> {
    const text = await readFile(this.recordFile, 'utf8').catch(() => undefined);
    const port = Number.parseInt(text?.trim() ?? '', 10);
    // A hand-edited or truncated file is ignored (and rewritten after the start), not fatal.
    return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

function systemPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
