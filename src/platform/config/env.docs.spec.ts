import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { envKeyDocs, renderEnvExample, shownDefault, withConfigTable } from './env.docs';
import { envSchema, parseEnv } from './env.schema';

const root = resolve(__dirname, '../../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

/** Fails with what to do and the first line that differs, rather than a diff of the whole file. */
function expectGenerated(path: string, committed: string, generated: string): void {
  if (committed === generated) return;
  const have = committed.split('\n');
  const want = generated.split('\n');
  const line = want.findIndex((text, index) => text !== have[index]);
  const at = line < 0 ? have.length : line;
  throw new Error(
    [
      `${path} is out of step with the env schema: run \`npm run docs:config\` and commit the result.`,
      `First difference at line ${at + 1}:`,
      `  committed: ${have[at] ?? '(end of file)'}`,
      `  generated: ${want[at] ?? '(end of file)'}`,
    ].join('\n'),
  );
}

describe('configuration docs', () => {
  it('should document every key of the env schema, once', () => {
    const documented = envKeyDocs().map(([key]) => key);
    expect([...documented].sort()).toEqual(Object.keys(envSchema.shape).sort());
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('should show defaults that parse to the schema defaults', () => {
    const defaults = parseEnv({});
    for (const [key, doc] of envKeyDocs()) {
      const shown = shownDefault(key, doc);
      if (shown === undefined || doc.computedDefault) continue;
      expect({ key, value: parseEnv({ [key]: shown })[key] }).toEqual({ key, value: defaults[key] });
    }
  });

  it('should keep the table in docs/configuration.md in step with the schema (npm run docs:config)', () => {
    const document = read('docs/configuration.md');
    expectGenerated('docs/configuration.md', document, withConfigTable(document));
  });

  it('should keep .env.example in step with the schema (npm run docs:config)', () => {
    expectGenerated('.env.example', read('.env.example'), renderEnvExample());
  });

  it('should give .env.example values that start the service when uncommented, and no credential', () => {
    const example = read('.env.example');
    expect(example).not.toMatch(/^[A-Z_]+=/m);
    // Each block: the description's lines, then `# KEY=value`.
    const assignments = example
      .trimEnd()
      .split('\n\n')
      .map((block) => /^# ([A-Z_]+)=(.*)$/.exec(block.split('\n').at(-1) ?? ''))
      .filter((match) => match !== null)
      .map(([, key, value]) => [key, value]);
    // Only the settings read as settings: no help line looks like `# KEY=value`.
    expect(example.match(/^# [A-Z][A-Z0-9_]*=.*$/gm)).toEqual(assignments.map(([key, value]) => `# ${key}=${value}`));
    const keys = Object.keys(envSchema.shape);
    expect(assignments.map(([key]) => key).filter((key) => keys.includes(key))).toEqual(
      envKeyDocs().map(([key]) => key),
    );
    const usable = assignments.filter(([key, value]) => keys.includes(key) && !value.startsWith('<'));
    expect(() => parseEnv(Object.fromEntries(usable))).not.toThrow();
    for (const [key, doc] of envKeyDocs()) {
      if (doc.secretPlaceholder) expect(assignments).toContainEqual([key, doc.secretPlaceholder]);
    }
  });
});
