/**
 * `events …`, `replay` and `listen`: the received events, how their listeners handled them,
 * following them live, replaying them.
 */
import type { Command } from 'commander';
import type { EventDetail, EventSummary, ReplayResult } from '../../inbox';
import { client, globals, positiveInt } from '../options';
import { fields, note, out, show, table, when } from '../output';
import { follow, untilInterrupted } from './event-stream';
import { addListenCommand } from './listen';
import { addReplayCommand } from './replay';

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

/** One line per message: when the CLI saw it, the status, the event. */
function tailLine(kind: string, e: EventSummary): string {
  const type = e.normalizedType === e.type ? e.type : `${e.normalizedType} (${e.type})`;
  const error = e.lastError ? `  ${e.lastError.replace(/\s+/g, ' ')}` : '';
  return `${when(new Date())}  ${kind.padEnd(10)} #${e.id}  ${type}  attempts ${e.attempts}  endpoint ${e.endpointId.slice(0, 8)}${error}`;
}

function addTailCommand(events: Command): void {
  events
    .command('tail')
    .description('follow events live as they are received and processed (^C to stop); reconnects and resumes')
    .option('--status <status>', 'received, processing, processed, failed or dead')
    .option('--type <type>', 'event type (normalised or as delivered)')
    .option('--endpoint <id>', 'endpoint id')
    .option('--since <cursor>', 'resume after this cursor (a JSON line’s "cursor") instead of starting now')
    .action(
      async (options: { status?: string; type?: string; endpoint?: string; since?: string }, command: Command) => {
        const json = globals(command).json;
        await follow(
          command,
          { status: options.status, type: options.type, endpointId: options.endpoint, since: options.since },
          ({ id, event, data }) => {
            out(json ? JSON.stringify({ cursor: id, event, ...data }) : tailLine(event, data));
          },
          untilInterrupted(),
          (again) => note(again ? 'Reconnected.' : 'Following events (Ctrl-C to stop).'),
        );
      },
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

  addTailCommand(events);
  addReplayCommand(program);
  addListenCommand(program);
}
