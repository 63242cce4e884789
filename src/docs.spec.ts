import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The docs beside the code: README.md, docs/, bench/README.md and the example's README. */
const root = resolve(__dirname, '..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'bench/README.md',
  'examples/sibling-consumer/README.md',
];

const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Markdown without fenced code blocks and code spans (links there are not links). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchors for the headings of a markdown file. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Relative links `[text](target)` of a document, as written. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(([, target]) => target)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** What is wrong with one link, or undefined. */
function brokenLink(document: string, target: string): string | undefined {
  const [path, anchor] = target.split('#', 2);
  const file = path === '' ? join(root, document) : resolve(dirname(join(root, document)), decodeURI(path));
  if (!existsSync(file)) return `${document}: ${target}: no file ${relative(root, file)}`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md'))
    return `${document}: ${target}: an anchor into a non-markdown file`;
  if (!anchors(readFileSync(file, 'utf8')).has(anchor)) {
    return `${document}: ${target}: no heading #${anchor} in ${relative(root, file)}`;
  }
  return undefined;
}

describe('docs', () => {
  it('should keep the README within 200 lines, with the two commands at the top', () => {
    const lines = read('README.md').split('\n');
    expect(lines.at(-1) === '' ? lines.length - 1 : lines.length).toBeLessThanOrEqual(200);
    const top = lines.slice(0, 40).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm ci && npm test');
  });

  it('should find links in a document, and headings as GitHub anchors them', () => {
    expect(relativeLinks('[a](docs/x.md#y) [b](https://x.dev) `[c](no.md)` [d](#z "t")')).toEqual([
      'docs/x.md#y',
      '#z',
    ]);
    expect([...anchors('# Event bus (RabbitMQ)\n## Connections (catching connection tokens)\n## A\n## A')]).toEqual([
      'event-bus-rabbitmq',
      'connections-catching-connection-tokens',
      'a',
      'a-1',
    ]);
  });

  it.each(documents)('should point every relative link of %s at a file and heading that exist', (document) => {
    const broken = relativeLinks(read(document))
      .map((target) => brokenLink(document, target))
      .filter((problem) => problem !== undefined);
    expect(broken).toEqual([]);
  });
});
