#!/usr/bin/env node
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { ConnectionTokenDto, ConnectionViewDto, ReconcileReportDto } from '../connections/connections.dto';
import type { EventDetail } from '../webhooks/events.dto';
import type { TestEventResult } from '../webhooks/test-event.dto';
import { CliError } from './admin-client';
import { addEndpointCommands } from './commands/endpoints';
import { addEventCommands, describeEvent } from './commands/events';
import { client, defaults, globals, positiveInt } from './options';
import { fields, note, show, table, when } from './output';

const SETTLED = new Set(['processed', 'dead', 'failed']);

async function sendTestEvent(command: Command, options: { endpoint: string; type: string; timeout: number }) {
  const api = client(command);
  const sent = await api.post<TestEventResult>(`/admin/endpoints/${encodeURIComponent(options.endpoint)}/test-event`, {
    type: options.type,
  });
  if (!globals(command).json) {
    note(
      `Sent a signed ${sent.deliveredType} (id_event ${sent.idEvent}) to endpoint ${sent.endpointId}: ` +
        `the receive route answered 200 ${JSON.stringify(sent.receiveAnswer)}; stored as event ${sent.eventId}.`,
    );
  }
  const started = Date.now();
  let event = await api.get<EventDetail>(`/admin/events/${sent.eventId}`);
  while (!SETTLED.has(event.status) && Date.now() - started < options.timeout * 1000) {
    await sleep(200);
    event = await api.get<EventDetail>(`/admin/events/${sent.eventId}`);
  }
  show(command, { sent, event }, () => {
    const lines = [describeEvent(event)];
    if (event.status === 'processed' && sent.normalizedType === 'connection.created') {
      const idConnection = (event.payload as { id_connection?: string } | null)?.id_connection;
      if (idConnection) {
        lines.push(
          '',
          `Connection ${idConnection} is stored. Its token: npx panora-webhooks connections token ${idConnection}`,
        );
      }
    }
    if (!SETTLED.has(event.status)) lines.push('', `Not processed after ${options.timeout} s: still ${event.status}.`);
    return lines.join('\n');
  });
  if (event.status !== 'processed') process.exitCode = 1;
}

export function buildProgram(): Command {
  const { url } = defaults();
  const program = new Command('panora-webhooks')
    .description('Operate a running panora-webhooks service through its admin API')
    .option('--url <url>', 'the service (env PANORA_WEBHOOKS_URL)', url)
    .option('--key <key>', 'an admin key (default: env ADMIN_API_KEY, or the first of ADMIN_API_KEYS)')
    .option('--json', 'print the JSON answers instead of tables')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });

  addEndpointCommands(program);

  addEventCommands(program);

  program
    .command('send-test-event')
    .description(
      "send a realistic sample event, signed with the endpoint's secret exactly like Panora, and show how it was processed",
    )
    .requiredOption('--endpoint <id>', 'endpoint id')
    .option('--type <type>', 'an event type Panora offers', 'connection.created')
    .option('--timeout <seconds>', 'how long to wait for processing', positiveInt, 30)
    .action(async (options: { endpoint: string; type: string; timeout: number }, command: Command) => {
      await sendTestEvent(command, options);
    });

  const connections = program.command('connections').description("end-users' connections");
  connections
    .command('list')
    .description('list connections, newest first (without tokens)')
    .option('--origin-id <id>', "the app's own user id")
    .option('--provider <slug>', 'e.g. hubspot')
    .option('--limit <n>', 'how many (1–500)', positiveInt, 50)
    .action(async (options: { originId?: string; provider?: string; limit: number }, command: Command) => {
      const { items } = await client(command).get<{ items: ConnectionViewDto[] }>('/admin/connections', {
        originId: options.originId,
        provider: options.provider,
        limit: options.limit,
      });
      show(command, items, () =>
        items.length === 0
          ? 'No connections yet.'
          : table(
              ['ID', 'PROVIDER', 'VERTICAL', 'STATUS', 'APP USER', 'TOKEN', 'SOURCE', 'CREATED (UTC)'],
              items.map((c) => [
                c.idConnection,
                c.providerSlug,
                c.vertical,
                c.status,
                c.linkedUserOriginId,
                c.tokenHint ? `…${c.tokenHint}` : '-',
                c.source,
                when(c.createdAt),
              ]),
            ),
      );
    });
  connections
    .command('token')
    .description("print a connection's token (for Panora's unified API, header x-connection-token); the read is logged")
    .argument('<id>', 'connection id (id_connection)')
    .action(async (id: string, _options, command: Command) => {
      const token = await client(command).get<ConnectionTokenDto>(`/admin/connections/${encodeURIComponent(id)}/token`);
      show(command, token, () => token.connectionToken);
    });
  connections
    .command('reconcile')
    .description("pull Panora's connections (GET /connections) and add the ones whose webhook was missed")
    .action(async (_options, command: Command) => {
      const report = await client(command).post<ReconcileReportDto>('/admin/connections/reconcile');
      show(command, report, () =>
        fields([
          ['seen at Panora', report.seen],
          ['created here', report.created],
          ['updated', report.updated],
          ['unchanged', report.unchanged],
          ['left to newer events', report.stale],
          ['failed', report.failed],
          ['app user ids resolved', report.originIdsResolved],
        ]),
      );
    });

  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    note(`error: ${error instanceof CliError ? error.message : String((error as Error)?.stack ?? error)}`);
    process.exitCode = 1;
  });
