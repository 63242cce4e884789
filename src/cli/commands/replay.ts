/**
 * `replay --dead|--failed`: every matching event queued again in one server call, after a dry-run
 * count and a confirmation, then a progress bar while they run. The bar follows the event stream
 * from the cursor the replay answers (taken just before it): each queued event counts once, when
 * it first shows an end state (processed, failed or dead); nothing is polled.
 */
import { createInterface } from 'node:readline/promises';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from '../admin-client';
import { client, globals } from '../options';
import { note, plural, show } from '../output';
import { follow, untilInterrupted } from './event-stream';

interface BulkReplayAnswer {
  queued: number;
  skipped: number;
  dryRun?: true;
  ids?: string[];
  cursor?: string;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO time, or a time ago: `90m`, `2h`, `7d`. */
export function timeOption(value: string): string {
  const ago = /^(\d+)([smhd])$/.exec(value.trim());
  if (ago) return new Date(Date.now() - Number(ago[1]) * UNITS[ago[2]]).toISOString();
  const time = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(time)) return new Date(time).toISOString();
  throw new InvalidArgumentError('expected an ISO time (2026-11-23T05:00:00Z) or a time ago (90m, 2h, 7d)');
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Waits until each queued event showed an end state; answers how many ended in each. */
async function track(
  command: Command,
  status: string,
  answer: BulkReplayAnswer,
  filters: { type?: string; endpointId?: string },
) {
  const pending = new Set(answer.ids);
  const ended = { processed: 0, failed: 0, dead: 0 };
  const bar = new SingleBar({
    format: `Replaying ${status} events [{bar}] {value}/{total} {percentage}% | processed {processed}, failed {failed}, dead {dead}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 1000,
    hideCursor: true,
  });
  bar.start(pending.size, 0, ended);
  const done = new AbortController();
  const interrupted = untilInterrupted();
  interrupted.addEventListener('abort', () => done.abort());
  await follow(
    command,
    { ...filters, since: answer.cursor },
    ({ event, data }) => {
      if (!pending.has(data.id) || !(event in ended)) return;
      pending.delete(data.id);
      ended[event as keyof typeof ended]++;
      bar.increment(1, ended);
      if (pending.size === 0) done.abort();
    },
    done.signal,
  );
  bar.stop();
  return { ...ended, waiting: pending.size };
}

export function addReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('replay every dead (or failed) event in one server call: a count first, then a progress bar')
    .option('--dead', 'the dead events')
    .option('--failed', 'the failed events (waiting for a retry) instead')
    .option('--since <time>', 'only events received since (ISO time, or 90m, 2h, 7d ago)', timeOption)
    .option('--until <time>', 'only events received before (ISO time, or a time ago)', timeOption)
    .option('--type <type>', 'only events of this type')
    .option('--endpoint <id>', 'only events of this endpoint')
    .option('--dry-run', 'only say how many would be replayed')
    .option('-y, --yes', 'do not ask for confirmation (needed when not on a terminal)')
    .action(
      async (
        options: {
          dead?: boolean;
          failed?: boolean;
          since?: string;
          until?: string;
          type?: string;
          endpoint?: string;
          dryRun?: boolean;
          yes?: boolean;
        },
        command: Command,
      ) => {
        if (options.dead === options.failed) throw CliError.usage('Say which events: --dead or --failed');
        const status = options.dead ? 'dead' : 'failed';
        const api = client(command);
        const filter = {
          status,
          since: options.since,
          until: options.until,
          type: options.type,
          endpointId: options.endpoint,
        };
        const count = await api.post<BulkReplayAnswer>('/admin/events/replay', { ...filter, dryRun: true });
        const skippedNote = count.skipped > 0 ? ` (${count.skipped} more cannot run again: payload pruned)` : '';
        const summary = `${plural(count.queued, `${status} event`)} to replay${skippedNote}.`;
        if (options.dryRun || count.queued === 0) {
          show(command, count, () => (count.queued === 0 ? `No ${status} events to replay${skippedNote}.` : summary));
          return;
        }
        if (!options.yes) {
          if (!process.stdin.isTTY) {
            throw CliError.usage(`${summary} Not on a terminal to confirm: pass --yes to replay them.`);
          }
          if (!(await confirm(`${summary} Replay them? [y/N] `))) {
            note('Nothing replayed.');
            return;
          }
        } else if (!globals(command).json) note(summary);
        const answer = await api.post<BulkReplayAnswer>('/admin/events/replay', filter);
        if (answer.queued === 0) {
          show(command, answer, () => `No ${status} events were left to replay.`);
          return;
        }
        const ended = await track(command, status, answer, { type: options.type, endpointId: options.endpoint });
        const result = { queued: answer.queued, skipped: answer.skipped, ...ended };
        show(command, result, () =>
          [
            `Queued ${plural(answer.queued, `${status} event`)} again: ${ended.processed} processed, ${ended.failed} failed (retried later), ${ended.dead} dead.`,
            ...(ended.waiting > 0
              ? [`${ended.waiting} still running when stopped: follow them with \`events tail\`.`]
              : []),
          ].join('\n'),
        );
        if (ended.waiting === 0 && ended.processed < answer.queued) {
          throw CliError.notProcessed(
            `${answer.queued - ended.processed} of ${answer.queued} replayed events did not end processed: \`events list --status ${ended.dead > 0 ? 'dead' : 'failed'}\``,
          );
        }
      },
    );
}
