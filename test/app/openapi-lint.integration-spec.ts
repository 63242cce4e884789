import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';

const ROOT = resolve(__dirname, '../..');
const REDOCLY = join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');

/**
 * The two probes answer 200 or 503 and nothing else: no client error to document. Redocly's
 * recommended rules warn about that (operation-4xx-response); these two warnings, and only these, are
 * accepted.
 */
const ACCEPTED = new Set([
  'operation-4xx-response #/paths/~1health~1live/get/responses',
  'operation-4xx-response #/paths/~1health~1ready/get/responses',
]);

interface Problem {
  ruleId: string;
  severity: string;
  message: string;
  location: { pointer: string }[];
}

/** `redocly lint` on the document, offline: no telemetry, no update check. */
function lint(file: string): Problem[] {
  const run = spawnSync(
    process.execPath,
    [REDOCLY, 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format', 'json', '--max-problems', '1000'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
      },
      timeout: 60_000,
    },
  );
  if (!run.stdout.trim().startsWith('{')) throw new Error(`redocly lint did not run:\n${run.stdout}\n${run.stderr}`);
  return (JSON.parse(run.stdout) as { problems: Problem[] }).problems;
}

type Schema = Record<string, any>;

/**
 * Where a body's example would be made up: the paths of the values in `schema` that have no example
 * (nor an enum, a const, a default) of their own or above them. A body with an `example` of its own
 * has none. Booleans need none: `true` is as good an example as any.
 */
function exampleGaps(document: any, schema: Schema | undefined, at: string, seen = new Set<string>()): string[] {
  if (!schema) return [at];
  if (schema.$ref) {
    if (seen.has(schema.$ref)) return [];
    const name = (schema.$ref as string).split('/').pop()!;
    return exampleGaps(document, document.components.schemas[name], `${at}<${name}>`, new Set([...seen, schema.$ref]));
  }
  if (schema.example !== undefined || schema.enum || schema.const !== undefined || schema.default !== undefined) {
    return [];
  }
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return (alternatives as Schema[]).flatMap((s, i) => exampleGaps(document, s, `${at}|${i}`, seen));
  if (schema.allOf) return (schema.allOf as Schema[]).flatMap((s) => exampleGaps(document, s, at, seen));
  if (schema.type === 'array') return exampleGaps(document, schema.items, `${at}[]`, seen);
  if (schema.type === 'object' || schema.properties) {
    const properties = Object.entries<Schema>(schema.properties ?? {});
    if (properties.length === 0 && !schema.additionalProperties) return [at];
    return properties.flatMap(([name, s]) => exampleGaps(document, s, `${at}.${name}`, seen));
  }
  return schema.type === 'boolean' ? [] : [at];
}

describe('The OpenAPI document, linted (Redocly recommended rules and the API reference conventions)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let document: any;
  let dir: string;
  const operations = (): [string, any][] =>
    Object.entries<Record<string, any>>(document.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]): [string, any] => [`${method} ${path}`, operation]),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({ databaseUrl: db.url, env: { ADMIN_API_KEYS: 'lint-admin-key-0123456789' } });
    const res = await fetch(`${service.baseUrl}/docs/openapi.json`);
    expect(res.status).toBe(200);
    document = await res.json();
    dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should pass Redocly recommended rules', () => {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    const problems = lint(file)
      .map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? ''}`.trim() + ` (${p.severity}: ${p.message})`)
      .filter((p) => !ACCEPTED.has(p.replace(/ \(.*$/s, '')));
    expect(problems).toEqual([]);
  });

  it('should describe the bearer keys as opaque, never as JWTs', () => {
    for (const scheme of Object.values<any>(document.components.securitySchemes)) {
      expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(scheme).not.toHaveProperty('bearerFormat');
      expect(scheme.description).toMatch(/opaque/);
    }
  });

  it('should name every operation with a readable, unique id', () => {
    const ids = operations().map(([, operation]) => operation.operationId as string);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(?:[A-Z][a-z0-9]*)+$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(document.paths['/admin/events'].get.operationId).toBe('listEvents');
    expect(document.paths['/admin/endpoints/{id}/rotate'].post.operationId).toBe('rotateEndpointSecret');
    expect(document.paths['/webhooks/panora/{endpointId}'].post.operationId).toBe('receivePanoraWebhook');
  });

  it('should name the server as a relative URL, the service that serves the document', () => {
    expect(document.servers).toEqual([{ url: '/', description: 'This service' }]);
  });

  it('should say explicitly which routes are open, and require a key on every other', () => {
    const open = operations()
      .filter(([, operation]) => Array.isArray(operation.security) && operation.security.length === 0)
      .map(([route]) => route);
    expect(open.sort()).toEqual(['get /health/live', 'get /health/ready', 'post /webhooks/panora/{endpointId}']);
    // Open unless METRICS_TOKEN is set: the token, or nothing.
    expect(document.paths['/metrics'].get.security).toEqual([{ 'metrics-token': [] }, {}]);
    for (const [route, operation] of operations().filter(([route]) => route.includes(' /admin/'))) {
      expect({ route, security: operation.security }).toEqual({ route, security: [{ 'admin-key': [] }] });
    }
  });

  it('should give no optional query parameter an example that "Try it out" would send', () => {
    const prefilled = operations().flatMap(([route, operation]) =>
      (operation.parameters ?? [])
        .filter((p: any) => p.in === 'query' && !p.required && (p.example ?? p.schema?.example) !== undefined)
        .map((p: any) => `${route} ?${p.name}`),
    );
    expect(prefilled).toEqual([]);
    // The example stays readable, in the description.
    const provider = document.paths['/admin/connections'].get.parameters.find((p: any) => p.name === 'provider');
    expect(provider.description).toContain('e.g. `hubspot`');
  });

  it('should give every request and response body an example', () => {
    const gaps = operations().flatMap(([route, operation]) => {
      const bodies: [string, any][] = [
        ...Object.entries<any>(operation.requestBody?.content ?? {}).map(([type, media]): [string, any] => [
          `request ${type}`,
          media,
        ]),
        ...Object.entries<any>(operation.responses).flatMap(([status, response]) =>
          Object.entries<any>(response.content ?? {}).map(([type, media]): [string, any] => [
            `${status} ${type}`,
            media,
          ]),
        ),
      ];
      return bodies.flatMap(([body, media]) =>
        media.example !== undefined || media.examples
          ? []
          : exampleGaps(document, media.schema, '').map((gap) => `${route} ${body} ${gap || '(body)'}`),
      );
    });
    expect(gaps).toEqual([]);
  });

  it('should redirect GET / to the docs page', async () => {
    const res = await fetch(`${service.baseUrl}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/docs');
  });
});
