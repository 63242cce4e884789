#!/usr/bin/env node
import { Command } from 'commander';
import type { ConnectionTokenDto, ConnectionViewDto, ReconcileReportDto } from '../connections/connections.dto';
import { CliError } from './admin-client';
import { addEndpointCommands } from './commands/endpoints';
import { addEventCommands } from './commands/events';
import { addTestEventCommand } from './commands/test-events';
import { client, defaults, positiveInt } from './options';
import { fields, note, show, table, when } from './output';

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

  addTestEventCommand(program);

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
