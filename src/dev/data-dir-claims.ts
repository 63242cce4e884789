import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isAlive } from './processes';

/** The Node process that runs the cluster: one claim file in `<DATA_DIR>/postgres.owners/`. */
export interface Owner {
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

/**
 * Which Node process owns the embedded cluster of one DATA_DIR: one claim file per start in
 * `<DATA_DIR>/postgres.owners/`, the highest generation is the owner (see `take`).
 */
export class DataDirClaims {
  /** `<DATA_DIR>/postgres.owners/<generation>`: the claims; the highest generation is the owner. */
  private readonly ownersDir: string;
  /** `<DATA_DIR>/postgres.owner`: the single owner record of earlier versions, still respected. */
  private readonly legacyOwnerFile: string;
  /** The claim this instance made, while it holds the cluster. */
  private claim?: { file: string; record: string };

  constructor(private readonly dataDir: string) {
    this.ownersDir = resolve(dataDir, 'postgres.owners');
    this.legacyOwnerFile = resolve(dataDir, 'postgres.owner');
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
  async take(): Promise<Owner | undefined> {
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
    throw new Error(`${this.ownersDir} keeps changing: is another process starting on ${this.dataDir}?`);
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

  /** Marks this instance's claim released (kept, not deleted: see take). */
  async release(): Promise<void> {
    if (this.claim === undefined) return;
    const { file, record } = this.claim;
    this.claim = undefined;
    const current = await readFile(file, 'utf8').catch(() => undefined);
    if (current !== record) return;
    const draft = `${file}.released-${process.pid}`;
    await writeFile(draft, JSON.stringify({ ...(JSON.parse(record) as Owner), released: true }), { mode: 0o644 });
    await rename(draft, file);
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
