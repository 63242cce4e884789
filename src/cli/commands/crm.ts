/** `crm …`: the CRM projections, through the read API (GET /admin/crm/:kind[/:id]). */
import { type Command, InvalidArgumentError } from 'commander';
import type { CrmKind } from '../../listeners/crm';
import { CliError } from '../admin-client';
import { client, positiveInt } from '../options';
import { fields, show, table, when } from '../output';

/** Every kind, once: the compiler refuses a kind missing here or one the service does not have. */
const KIND_SET: Record<CrmKind, true> = {
  contact: true,
  company: true,
  deal: true,
  engagement: true,
  note: true,
  task: true,
  stage: true,
  user: true,
};
const KINDS = Object.keys(KIND_SET) as CrmKind[];

function parseKind(value: string): CrmKind {
  if (!(KINDS as string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}`);
  return value as CrmKind;
}

/** The fields of GET /admin/crm/:kind/:id the CLI prints (CrmObjectViewDto). */
interface CrmObject {
  kind: CrmKind;
  id: string;
  remoteId: string | null;
  connectionId: string | null;
  name: string | null;
  email: string | null;
  domain: string | null;
  modifiedAt: string | null;
  shape: 'unified' | 'raw';
  data: Record<string, unknown>;
  firstEventId: string;
  lastEventId: string;
  firstSeenAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

interface CrmPage {
  items: CrmObject[];
  nextCursor: string;
}

function objectsTable(objects: CrmObject[]): string {
  return table(
    ['KIND', 'ID', 'NAME', 'EMAIL / DOMAIN', 'SHAPE', 'UPDATED (UTC)', 'DELETED (UTC)'],
    objects.map((o) => [o.kind, o.id, o.name, o.email ?? o.domain, o.shape, when(o.updatedAt), when(o.deletedAt)]),
    [undefined, undefined, 40, 40],
  );
}

async function list(command: Command, options: { kind?: CrmKind; limit: number; cursor?: string }) {
  if (options.cursor && !options.kind) throw CliError.usage('A cursor belongs to one kind: add --kind');
  const api = client(command);
  const kinds = options.kind ? [options.kind] : KINDS;
  const pages = await Promise.all(
    kinds.map(async (kind) => ({
      kind,
      page: await api.get<CrmPage>(`/admin/crm/${kind}`, {
        limit: options.limit,
        cursor: options.cursor,
      }),
    })),
  );
  // With --kind, the API's page as it is; without, one page per kind.
  const answer = options.kind ? pages[0].page : Object.fromEntries(pages.map(({ kind, page }) => [kind, page]));
  show(command, answer, () => {
    const items = pages.flatMap(({ page }) => page.items);
    // A full page may have more behind it (nextCursor is there on the last page too, to poll with).
    const more = pages
      .filter(({ page }) => page.items.length === options.limit)
      .map(({ kind, page }) => `More ${kind}s: --kind ${kind} --cursor ${page.nextCursor}`);
    return [items.length === 0 ? 'No CRM objects.' : objectsTable(items), ...more].join('\n');
  });
}

function describe(object: CrmObject): string {
  return `${fields([
    ['kind', object.kind],
    ['id', object.id],
    ['remote id', object.remoteId],
    ['connection', object.connectionId],
    ['name', object.name],
    ...(object.email ? [['email', object.email] as [string, string]] : []),
    ...(object.domain ? [['domain', object.domain] as [string, string]] : []),
    ['shape', object.shape],
    ['modified at Panora', when(object.modifiedAt)],
    ['first seen', `${when(object.firstSeenAt)} (event ${object.firstEventId})`],
    ['updated', `${when(object.updatedAt)} (event ${object.lastEventId})`],
    ['deleted', object.deletedAt ? when(object.deletedAt) : 'no'],
  ])}\n\nData:\n${JSON.stringify(object.data, null, 2)}`;
}

export function addCrmCommands(program: Command): void {
  const crm = program.command('crm').description('the CRM objects projected from Panora events (read-only)');
  crm
    .command('list')
    .description('CRM objects in the order they changed, oldest first; one page per kind without --kind')
    .option('--kind <kind>', KINDS.join(', '), parseKind)
    .option('--limit <n>', 'how many per kind (1–500)', positiveInt, 20)
    .option('--cursor <cursor>', 'the cursor printed after a full page (with its --kind)')
    .action(async (options: { kind?: CrmKind; limit: number; cursor?: string }, command: Command) => {
      await list(command, options);
    });
  crm
    .command('show')
    .description("one CRM object by Panora's id, with its whole data")
    .argument('<kind>', KINDS.join(', '), parseKind)
    .argument('<id>', "Panora's id of the object")
    .action(async (objectKind: CrmKind, id: string, _options, command: Command) => {
      const object = await client(command).get<CrmObject>(`/admin/crm/${objectKind}/${encodeURIComponent(id)}`);
      show(command, object, () => describe(object));
    });
}
