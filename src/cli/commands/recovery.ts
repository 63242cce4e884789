/** `recovery …`: the events Panora sent that never arrived, and their recovery. */
import { InvalidArgumentError, type Command } from 'commander';
import type { RecoveryRunReport, RecoveryStatus } from '../../recovery';
import { client, positiveInt } from '../options';
import { cut, fields, show, table, when } from '../output';

const STATUSES = ['pending', 'recovered', 'published', 'given_up', 'arrived_late'];

function status(value: string): string {
  if (!STATUSES.includes(value)) throw new InvalidArgumentError(`expected one of ${STATUSES.join(', ')}`);
  return value;
}

export function addRecoveryCommands(program: Command): void {
  const recovery = program
    .command('recovery')
    .description("events Panora sent that never arrived, found in Panora's GET /events, and their recovery");
  recovery
    .command('status')
    .description('the watermark, the last run, the missed events by status and a page of them, newest first')
    .option('--status <status>', STATUSES.join(', '), status)
    .option('--limit <n>', 'how many missed events (1–500)', positiveInt, 50)
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action(async (options: { status?: string; limit: number; cursor?: string }, command: Command) => {
      const state = await client(command).get<RecoveryStatus>('/admin/recovery', options);
      show(command, state, () => readableStatus(state));
    });
  recovery
    .command('run')
    .description('detect and recover missed events now, and print what the run found')
    .action(async (_options, command: Command) => {
      const report = await client(command).post<RecoveryRunReport>('/admin/recovery/run');
      show(command, report, () => readableRun(report));
    });
}

function readableStatus(state: RecoveryStatus): string {
  const run = state.lastRun;
  const head = fields([
    [
      'recovery',
      !state.enabled
        ? 'off (PANORA_API_KEY unset)'
        : state.intervalSeconds === 0
          ? 'on demand only (RECOVERY_INTERVAL=0)'
          : `every ${state.intervalSeconds} s, and at start-up`,
    ],
    ['watermark', when(state.watermark)],
    ['last run', run ? `${when(run.startedAt)} → ${run.finishedAt ? when(run.finishedAt) : 'running'}` : 'never'],
    ['outcome', run?.outcome ?? '-'],
    ...(run?.error ? [['error', run.error] as [string, string]] : []),
    ['missed events', STATUSES.map((s) => `${s} ${state.counts[s as keyof RecoveryStatus['counts']]}`).join(', ')],
  ]);
  if (state.items.length === 0) return `${head}\n\nNo missed events.`;
  const rows = table(
    ['ID_EVENT', 'TYPE', 'CONNECTION', 'PANORA TIME (UTC)', 'STATUS', 'TRIES', 'LAST ERROR'],
    state.items.map((e) => [
      e.idEvent,
      e.type,
      e.idConnection,
      when(e.panoraTimestamp),
      e.status,
      e.attempts,
      e.lastError ? cut(e.lastError, 80) : '-',
    ]),
  );
  return `${head}\n\n${rows}${state.nextCursor ? `\n\nMore: --cursor ${state.nextCursor}` : ''}`;
}

function readableRun(report: RecoveryRunReport): string {
  const d = report.detection;
  const r = report.recovery;
  const lines = fields([
    ['outcome', report.outcome],
    ...(report.error ? [['error', report.error] as [string, string]] : []),
    ['walk', `${d.complete ? 'complete' : 'stopped short'}, ${d.pages} page(s) of Panora events`],
    ['watermark', when(report.watermark)],
    ['listed by Panora', d.listed],
    ['sent to our endpoints', d.delivered],
    ['received', d.received],
    ['missed, found now', d.found],
    ['arrived late', d.arrivedLate],
    ['recovered', r.recovered],
    ['published on the bus', r.published],
    ['given up', r.givenUp],
    ['failed (still pending)', r.failed],
    ['CRM objects read / changed', `${r.objectsRead} / ${r.objectsChanged}`],
  ]);
  return report.foundIds.length === 0 ? lines : `${lines}\n\nFound:\n${report.foundIds.join('\n')}`;
}
