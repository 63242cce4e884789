/** `status`: the service in one screen, from GET /admin/status. */
import type { Command } from 'commander';
import type { ServiceStatus } from '../../health';
import { CliError } from '../admin-client';
import { client, globals } from '../options';
import { fields, show, when } from '../output';

/** 42.5 → `42 s`, 390 → `6 min 30 s`, 7300 → `2 h 1 min`. */
export function age(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

function readable(url: string, state: ServiceStatus): string {
  const { database, broker, inbox, outbox } = state;
  return fields([
    ['service', `${url}: ${state.ready ? 'ready' : 'NOT READY'} (checked ${when(state.checkedAt)} UTC)`],
    ['database', database.error ? `${database.status}: ${database.error}` : database.status],
    [
      'broker',
      broker.status === 'disabled'
        ? 'disabled (RABBITMQ_URL unset: events wait in the outbox)'
        : `${broker.status} since ${when(broker.since)}, exchange ${broker.exchange}${broker.error ? `: ${broker.error}` : ''}`,
    ],
    [
      'inbox',
      inbox
        ? `received ${inbox.received}, processing ${inbox.processing}, failed ${inbox.failed}, dead ${inbox.dead}`
        : 'unknown (the database does not answer)',
    ],
    ['dead', inbox ? (inbox.dead > 0 ? `${inbox.dead}: replay with \`replay --dead\`` : '0') : '-'],
    ['oldest pending', inbox ? (inbox.oldestPendingSeconds === null ? 'none' : age(inbox.oldestPendingSeconds)) : '-'],
    ['outbox pending', outbox.pending],
  ]);
}

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description('health, broker, inbox backlog by status, dead events, oldest pending, outbox, in one screen')
    .action(async (_options, command: Command) => {
      const api = client(command);
      const state = await api.get<ServiceStatus>('/admin/status');
      show(command, state, () => readable(globals(command).url, state));
      if (!state.ready) throw new CliError(`The service is not ready: the database is ${state.database.status}`);
    });
}
