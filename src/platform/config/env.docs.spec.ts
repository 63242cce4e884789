import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { envKeyDocs, renderEnvExample, shownDefault, withConfigTable } from './env.docs';
import { envSchema, parseEnv } from './env.schema';

const root = resolve(__dirname, '../../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

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
    expect(document).toBe(withConfigTable(document));
  });

  it('should keep .env.example in step with the schema (npm run docs:config)', () => {
    expect(read('.env.example')).toBe(renderEnvExample());
  });

  it('should give .env.example values that start the service when uncommented, and no credential', () => {
    const example = read('.env.example');
    expect(example).not.toMatch(/^[A-Z_]+=/m);
    // Each block: the description's lines, then `# KEY=value`.
    const assignments = example
      .split('\n\n')
      .map((block) => /^# ([A-Z_]+)=(.*)$/.exec(block.split('\n').at(-1) ?? ''))
      .filter((match) => match !== null)
      .map(([, key, value]) => [key, value]);
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
