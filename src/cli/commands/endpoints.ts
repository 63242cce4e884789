/** `endpoints …`: the webhook endpoints, their registration at Panora and their secrets. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { SyncResult, EndpointResult, EndpointView, RotationResult } from '../../endpoints';
import { CliError } from '../admin-client';
import { client, list } from '../options';
import { fields, show, table, when } from '../output';

function readSecret(value: string): string {
  if (value !== '-') return value;
  return readFileSync(0, 'utf8').trim();
}

const secretHint = (endpoint: EndpointView) => {
  const current = endpoint.secrets.find((s) => s.expiresAt === null) ?? endpoint.secrets[0];
  return current ? `…${current.hint}` : '-';
};

function describeEndpoint(endpoint: EndpointView | EndpointResult): string {
  const lines = fields([
    ['id', endpoint.id],
    ['active', endpoint.active ? 'yes' : 'no'],
    ['scope', endpoint.scope.join(', ')],
    ['Panora id', endpoint.panoraEndpointId],
    ['registered URL', endpoint.url],
    ['receive URL', endpoint.receiveUrl],
    ['description', endpoint.description],
    [
      'secrets',
      endpoint.secrets
        .map((s) => `…${s.hint}${s.expiresAt ? ` (previous, verifies until ${when(s.expiresAt)})` : ' (current)'}`)
        .join(', '),
    ],
    ['created', when(endpoint.createdAt)],
  ]);
  const warnings = 'warnings' in endpoint ? endpoint.warnings : [];
  return [lines, ...warnings.map((w) => `warning: ${w}`)].join('\n');
}

function endpointsTable(endpoints: EndpointView[]): string {
  if (endpoints.length === 0) return 'No endpoints yet: `endpoints register` or `endpoints import`.';
  return table(
    ['ID', 'ACTIVE', 'SCOPE', 'PANORA ID', 'SECRET', 'RECEIVE URL'],
    endpoints.map((e) => [
      e.id,
      e.active ? 'yes' : 'no',
      e.scope.join(','),
      e.panoraEndpointId,
      secretHint(e),
      e.receiveUrl,
    ]),
    [36, 3, 48, 36, 8, undefined],
  );
}

export function addEndpointCommands(program: Command): void {
  const endpoints = program.command('endpoints').description('webhook endpoints (registration, secrets)');
  endpoints
    .command('list')
    .description('list endpoints')
    .action(async (_options, command: Command) => {
      const found = await client(command).get<EndpointView[]>('/admin/endpoints');
      show(command, found, () => endpointsTable(found));
    });
  endpoints
    .command('show')
    .description('show one endpoint')
    .argument('<id>', 'endpoint id')
    .action(async (id: string, _options, command: Command) => {
      const endpoint = await client(command).get<EndpointView>(`/admin/endpoints/${encodeURIComponent(id)}`);
      show(command, endpoint, () => describeEndpoint(endpoint));
    });
  endpoints
    .command('register')
    .description('register a new endpoint at Panora (needs PANORA_API_KEY on the service)')
    .requiredOption(
      '--scope <types>',
      'event types, comma-separated (e.g. connection.created,crm.contact.created)',
      list,
    )
    .option('--description <text>', 'a description, shown in Panora')
    .option('--receive-url <url>', 'the URL Panora delivers to (default: PUBLIC_BASE_URL/webhooks/panora/<id>)')
    .action(async (options: { scope: string[]; description?: string; receiveUrl?: string }, command: Command) => {
      const endpoint = await client(command).post<EndpointResult>('/admin/endpoints', {
        scope: options.scope,
        description: options.description,
        url: options.receiveUrl,
      });
      show(command, endpoint, () => `Registered at Panora.\n${describeEndpoint(endpoint)}`);
    });
  endpoints
    .command('import')
    .description("adopt an endpoint made in Panora's dashboard, with the secret Panora showed")
    .requiredOption('--secret <secret>', 'its signing secret ("-" reads it from standard input)')
    .option('--panora-id <id>', "Panora's id of the endpoint (id_webhook_endpoint)")
    .option('--scope <types>', 'its event types, comma-separated', list)
    .option('--receive-url <url>', 'the URL registered at Panora, if it is not the one this service prints')
    .action(
      async (
        options: { secret: string; panoraId?: string; scope?: string[]; receiveUrl?: string },
        command: Command,
      ) => {
        const endpoint = await client(command).post<EndpointResult>('/admin/endpoints/import', {
          secret: readSecret(options.secret),
          id_webhook_endpoint: options.panoraId,
          scope: options.scope,
          url: options.receiveUrl,
        });
        show(
          command,
          endpoint,
          () =>
            `Imported. Give Panora this URL for the endpoint: ${endpoint.url ?? endpoint.receiveUrl}\n${describeEndpoint(endpoint)}`,
        );
      },
    );
  endpoints
    .command('rotate')
    .description('new secret through a replacement endpoint at Panora; the old one verifies for SECRET_ROTATION_GRACE')
    .argument('<id>', 'endpoint id')
    .action(async (id: string, _options, command: Command) => {
      const result = await client(command).post<RotationResult>(`/admin/endpoints/${encodeURIComponent(id)}/rotate`);
      show(command, result, () =>
        [
          `Rotated: Panora endpoint ${result.rotation.previousPanoraEndpointId} → ${result.rotation.newPanoraEndpointId}.`,
          `The previous secret verifies until ${when(result.rotation.previousSecretExpiresAt)} UTC.`,
          result.rotation.previousDisabledAtPanora
            ? 'The previous endpoint is disabled at Panora.'
            : `warning: Panora did not disable the previous endpoint (${result.rotation.error ?? 'no reason given'}): disable it in Panora's dashboard.`,
          describeEndpoint(result),
        ].join('\n'),
      );
    });
  for (const [name, active] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    endpoints
      .command(name)
      .description(`${name} an endpoint, at Panora then here`)
      .argument('<id>', 'endpoint id')
      .action(async (id: string, _options, command: Command) => {
        const endpoint = await client(command).patch<EndpointResult>(`/admin/endpoints/${encodeURIComponent(id)}`, {
          active,
        });
        show(command, endpoint, () => `${active ? 'Enabled' : 'Disabled'}.\n${describeEndpoint(endpoint)}`);
      });
  }
  endpoints
    .command('delete')
    .description('delete an endpoint at Panora, then here (its events are kept, its secrets erased)')
    .argument('<id>', 'endpoint id')
    .option('--yes', 'confirm the deletion')
    .action(async (id: string, options: { yes?: boolean }, command: Command) => {
      if (!options.yes) throw CliError.usage(`This deletes endpoint ${id} at Panora and here: add --yes to confirm`);
      const endpoint = await client(command).delete<EndpointResult>(`/admin/endpoints/${encodeURIComponent(id)}`);
      show(command, endpoint, () => `Deleted endpoint ${endpoint.id} (its events are kept).`);
    });
  endpoints
    .command('sync')
    .description("compare with Panora's endpoints (active, scope, one-sided endpoints)")
    .action(async (_options, command: Command) => {
      const result = await client(command).post<SyncResult>('/admin/endpoints/sync');
      show(command, result, () =>
        [
          `Updated from Panora: ${result.updated.length}`,
          ...result.updated.map((u) => `  ${u.id}: active=${u.active ?? '='} scope=${u.scope?.join(',') ?? '='}`),
          `Only here (Panora no longer lists them): ${result.onlyLocal.length}`,
          ...result.onlyLocal.map((e) => `  ${e.id} (Panora id ${e.panoraEndpointId})`),
          `Never registered at Panora: ${result.notRegistered.length}`,
          ...result.notRegistered.map((e) => `  ${e.id}`),
          `Only at Panora (import them to receive their events): ${result.onlyAtPanora.length}`,
          ...result.onlyAtPanora.map((e) => `  ${e.panoraEndpointId} ${e.url ?? ''} [${e.scope.join(',')}]`),
          ...result.warnings.map((w) => `warning: ${w}`),
        ].join('\n'),
      );
    });
}
