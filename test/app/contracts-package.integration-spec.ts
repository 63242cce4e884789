import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { EVENT_CONTRACTS, exampleMessage } from '../../src/contracts';

const ROOT = resolve(__dirname, '../..');
const PACKAGE = join(ROOT, 'packages/contracts');
const KEYS = EVENT_CONTRACTS.map((c) => c.routingKey);

const run = async (command: string, args: string[], cwd: string): Promise<string> =>
  (await promisify(execFile)(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout;

/** What a consumer of the installed tarball sees, from a plain CommonJS script. */
const CONSUMER_SCRIPT = `
const fs = require('node:fs');
const c = require('@panora-webhooks/contracts');
const examples = JSON.parse(fs.readFileSync('examples.json', 'utf8'));
const result = { keys: c.ROUTING_KEYS, byKey: {} };
for (const [key, message] of Object.entries(examples)) {
  const { data, ...withoutData } = message;
  const empty = { ...message, data: {} };
  result.byKey[key] = {
    parsed: c.parseEvent(message).ok,
    guard: c.isEvent(key, message),
    emptyData: c.parseEvent(empty).ok || c.isEvent(key, empty),
    noData: c.parseEvent(withoutData).ok || c.isEvent(key, withoutData),
    exampleEvent: JSON.stringify(c.exampleEvent(key)) === JSON.stringify(message),
  };
}
const contact = examples['crm.contact.upserted'];
result.emptyIssues = c.parseEvent({ ...contact, data: {} }).issues;
result.unknownType = c.parseEvent({ ...contact, type: 'crm.nothing.here' });
result.otherKey = c.isEvent('crm.deal.upserted', contact);
result.schemaType = require('@panora-webhooks/contracts/schemas/crm.contact.upserted.json').properties.type;
process.stdout.write(JSON.stringify(result));
`;

/** What a TypeScript consumer sees: typed data per routing key, never `unknown` or `any`. */
const CONSUMER_TS = `
import { isEvent, parseEvent, type DataOf, type EventOf, type RoutingKey } from '@panora-webhooks/contracts';

declare const message: unknown;
if (isEvent('crm.contact.deleted', message)) {
  const deletedAt: string = message.data.deletedAt;
  const kind: 'contact' = message.data.kind;
  // @ts-expect-error: a contact's event is not a deal's
  const deal: EventOf<'crm.deal.upserted'> = message;
  void [deletedAt, kind, deal];
}
const parsed = parseEvent(message);
if (parsed.ok && parsed.event.type === 'connections.connection.updated') {
  const changed: string[] | undefined = parsed.event.data.changed;
  // @ts-expect-error: a connection has no email
  void parsed.event.data.email;
  void changed;
}
// @ts-expect-error: not a routing key
type Nope = EventOf<'crm.nothing.here'>;
type Loose<T> = unknown extends T ? true : false;
type AnyLoose = { [K in RoutingKey]: Loose<DataOf<K>> }[RoutingKey];
const typed: AnyLoose extends false ? 'typed' : 'loose' = 'typed';
void typed;
export type { Nope };
`;

interface Packed {
  filename: string;
  files: { path: string }[];
}

describe('packages/contracts: the typed package for sibling services, built and packed', () => {
  let work: string;
  let files: string[];
  let installed: string;

  beforeAll(async () => {
    await run('npm', ['run', 'contracts:build'], ROOT);
    work = mkdtempSync(join(tmpdir(), 'contracts-package-'));
    const out = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--offline', '--pack-destination', work],
      PACKAGE,
    );
    const [packed] = JSON.parse(out) as Packed[];
    files = packed.files.map((file) => file.path);
    // Installed as npm would from the tarball, zod beside it.
    installed = join(work, 'node_modules/@panora-webhooks/contracts');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1'], work);
    symlinkSync(join(ROOT, 'node_modules/zod'), join(work, 'node_modules/zod'), 'dir');
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the types, the validators, a JSON Schema per routing key and its README, nothing else of the service', () => {
    const entry = 'dist/packages/contracts/src';
    for (const file of ['package.json', 'README.md', 'schemas/index.json']) expect(files).toContain(file);
    for (const name of ['index', 'events', 'validate']) {
      expect(files).toContain(`${entry}/${name}.js`);
      expect(files).toContain(`${entry}/${name}.d.ts`);
    }
    for (const key of KEYS) expect(files).toContain(`schemas/${key}.json`);
    const index = JSON.parse(readFileSync(join(installed, 'schemas/index.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(index).sort()).toEqual([...KEYS].sort());
    // Compiled contracts and Panora's event types only: no source, no client, no NestJS module.
    const shipped = files.filter((file) => file.startsWith('dist/src/'));
    expect(
      shipped.filter((file) => !/^dist\/src\/(contracts\/|panora\/(index|panora-event-types)\.)/.test(file)),
    ).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ zod: root.dependencies.zod });
  });

  it('validates each contract example, and rejects data {} or no data, from the installed tarball', async () => {
    const examples = Object.fromEntries(EVENT_CONTRACTS.map((c) => [c.routingKey, exampleMessage(c)]));
    writeFileSync(join(work, 'examples.json'), JSON.stringify(examples));
    writeFileSync(join(work, 'consumer.cjs'), CONSUMER_SCRIPT);
    const result = JSON.parse(await run(process.execPath, ['consumer.cjs'], work));
    expect(result.keys).toEqual(KEYS);
    for (const key of KEYS) {
      expect({ key, ...result.byKey[key] }).toEqual({
        key,
        parsed: true,
        guard: true,
        emptyData: false,
        noData: false,
        exampleEvent: true,
      });
    }
    expect(result.emptyIssues).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'data.id' })]));
    expect(result.unknownType).toEqual({
      ok: false,
      issues: [{ path: 'type', message: expect.stringContaining('unknown') }],
    });
    expect(result.otherKey).toBe(false);
    expect(result.schemaType).toEqual(expect.objectContaining({ const: 'crm.contact.upserted' }));
  });

  it('ships JSON Schemas that accept each example and reject data {}', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const contract of EVENT_CONTRACTS) {
      const schema = JSON.parse(readFileSync(join(installed, `schemas/${contract.routingKey}.json`), 'utf8'));
      const validate = ajv.compile(schema);
      const message = exampleMessage(contract);
      expect({ key: contract.routingKey, valid: validate(message) }).toEqual({ key: contract.routingKey, valid: true });
      expect({ key: contract.routingKey, valid: validate({ ...message, data: {} }) }).toEqual({
        key: contract.routingKey,
        valid: false,
      });
    }
  });

  it('types each event for a TypeScript consumer (tsc against the installed tarball)', async () => {
    writeFileSync(join(work, 'consumer.ts'), CONSUMER_TS);
    const tsconfig = {
      compilerOptions: {
        module: 'nodenext',
        target: 'ES2023',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], work)).resolves.toBe('');
  }, 120_000);
});
