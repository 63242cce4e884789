/** `connections …`: the end-users' connections, their tokens, and reconciliation with Panora. */
import type { Command } from 'commander';
import type { ConnectionTokenDto, ConnectionViewDto, ReconcileReportDto } from '../../listeners/connections';
import { client, positiveInt } from '../options';
import { fields, show, table, when } from '../output';

export function addConnectionCommands(program: Command): void {
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
}
