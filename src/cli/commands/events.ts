/** `events …` and `replay`: the received events, how their listeners handled them, replaying them. */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { EventDetail, EventSummary, ReplayResult } from '../../inbox';
import { CliError } from '../admin-client';
import { client, positiveInt } from '../options';
import { fields, plural, show, table, when } from '../output';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function eventsTable(events: EventSummary[]): string {
  if (events.length === 0) return 'No events.';
  return table(
    ['ID', 'STATUS', 'TYPE', 'ATTEMPTS', 'RECEIVED (UTC)', 'ENDPOINT', 'LAST ERROR'],
    events.map((e) => [
      e.id,
      e.status,
      e.normalizedType === e.type ? e.type : `${e.normalizedType} (${e.type})`,
      e.attempts,
      when(e.receivedAt),
      e.endpointId.slice(0, 8),
      e.lastError,
    ]),
    [undefined, undefined, 48, undefined, undefined, undefined, 60],
  );
}

/** One event and how each listener handled it (also what `send-test-event` prints). */
export function describeEvent(event: EventDetail): string {
  const head = fields([
    ['event', event.id],
    ['type', event.normalizedType === event.type ? event.type : `${event.normalizedType} (delivered as ${event.type})`],
    ['status', event.status],
    ['attempts', event.attempts],
    ['endpoint', event.endpointId],
    ['id_event', event.idEvent],
    ['received', when(event.receivedAt)],
    ['processed', when(event.processedAt)],
    ...(event.nextAttemptAt ? [['next attempt', when(event.nextAttemptAt)] as [string, string]] : []),
    ...(event.lastError ? [['last error', event.lastError] as [string, string]] : []),
  ]);
  const listeners =
    event.listeners.length === 0
      ? 'Listeners: none has run yet (or none handles this type).'
      : `Listeners:\n${table(
          ['LISTENER', 'STATUS', 'ATTEMPTS', 'ERROR'],
          event.listeners.map((l) => [l.listener, l.status, l.attempts, l.lastError]),
          [undefined, undefined, undefined, 80],
        )}`;
  return `${head}\n\n${listeners}`;
}

async function replayDead(command: Command, options: { type?: string; endpoint?: string; status: 'dead' | 'failed' }) {
  const api = client(command);
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Page<EventSummary>>('/admin/events', {
      status: options.status,
      type: options.type,
      endpointId: options.endpoint,
      limit: 500,
      cursor,
    });
    ids.push(...page.items.map((e) => e.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (ids.length === 0) {
    show(command, { replayed: 0, skipped: [] }, () => `No ${options.status} events to replay.`);
    return;
  }
  // Oldest first, as they were received.
  ids.reverse();
  const bar = new SingleBar({
    format: `Replaying ${options.status} events [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 1000,
    hideCursor: true,
  });
  bar.start(ids.length, 0);
  let replayed = 0;
  const skipped: { id: string; reason: string }[] = [];
  for (const id of ids) {
    try {
      await api.post<ReplayResult>(`/admin/events/${id}/replay`);
      replayed++;
    } catch (error) {
      // Being processed right now (409) or gone (404): reported, not fatal.
      if (error instanceof CliError && (error.status === 409 || error.status === 404)) {
        skipped.push({ id, reason: error.message });
      } else {
        bar.stop();
        throw error;
      }
    }
    bar.increment();
  }
  bar.stop();
  show(command, { replayed, skipped }, () =>
    [
      `Queued ${plural(replayed, `${options.status} event`)} again: their unfinished listeners run now.`,
      ...skipped.map((s) => `skipped ${s.id}: ${s.reason}`),
      'Follow them with `events list --status dead` (what is still dead) or `events show <id>`.',
    ].join('\n'),
  );
}

export function addEventCommands(program: Command): void {
  const events = program.command('events').description('received events');
  events
    .command('list')
    .description('list events, newest first')
    .option('--status <status>', 'received, processing, processed, failed or dead')
    .option('--type <type>', 'event type (normalised or as delivered)')
    .option('--endpoint <id>', 'endpoint id')
    .option('--limit <n>', 'how many (1–500)', positiveInt, 20)
    .option('--cursor <cursor>', 'the cursor printed after the previous page')
    .action(
      async (
        options: { status?: string; type?: string; endpoint?: string; limit: number; cursor?: string },
        command: Command,
      ) => {
        const page = await client(command).get<Page<EventSummary>>('/admin/events', {
          status: options.status,
          type: options.type,
          endpointId: options.endpoint,
          limit: options.limit,
          cursor: options.cursor,
        });
        show(command, page, () =>
          [eventsTable(page.items), ...(page.nextCursor ? [`More: --cursor ${page.nextCursor}`] : [])].join('\n'),
        );
      },
    );
  events
    .command('show')
    .description('one event: its payload (credentials redacted) and how each listener handled it')
    .argument('<id>', 'event id (the ID column of events list)')
    .option('--no-payload', 'leave the payload out')
    .action(async (id: string, options: { payload: boolean }, command: Command) => {
      const event = await client(command).get<EventDetail>(`/admin/events/${encodeURIComponent(id)}`);
      show(command, event, () =>
        options.payload
          ? `${describeEvent(event)}\n\nPayload (credentials redacted):\n${JSON.stringify(event.payload, null, 2)}`
          : describeEvent(event),
      );
    });
  events
    .command('replay')
    .description('run the failed or dead listeners of one event again')
    .argument('<id>', 'event id')
    .option('--all', 'run every listener again, not only the unfinished ones')
    .action(async (id: string, options: { all?: boolean }, command: Command) => {
      const result = await client(command).post<ReplayResult>(
        `/admin/events/${encodeURIComponent(id)}/replay${options.all ? '?all=true' : ''}`,
      );
      show(command, result, () => `Queued event ${result.id} again (${result.listeners} listeners).`);
    });

  program
    .command('replay')
    .description('replay every dead (or failed) event, one by one, with a progress bar')
    .option('--dead', 'the dead events')
    .option('--failed', 'the failed events (waiting for a retry) instead')
    .option('--type <type>', 'only events of this type')
    .option('--endpoint <id>', 'only events of this endpoint')
    .action(
      async (options: { dead?: boolean; failed?: boolean; type?: string; endpoint?: string }, command: Command) => {
        if (options.dead === options.failed) throw new CliError('Say which events: --dead or --failed');
        await replayDead(command, { ...options, status: options.dead ? 'dead' : 'failed' });
      },
    );
}
