import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceVersion } from './build-info';
import { BoundedLabel, Metrics } from './metrics.service';

describe(Metrics.name, () => {
  it('should name every instrument with the service prefix, in its own registry', async () => {
    const metrics = new Metrics();
    metrics.counter('things_total', 'Things', ['kind']).inc({ kind: 'a' });
    metrics.gauge('depth', 'Depth', [], async (gauge) => gauge.set(3));
    const text = await metrics.scrape();
    expect(text).toContain('panora_webhooks_things_total{kind="a"} 1');
    expect(text).toContain('panora_webhooks_depth 3');
    expect(await new Metrics().scrape()).not.toContain('panora_webhooks_things_total');
  });

  it('should say which version of the service and of Node.js runs, as build_info 1', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(await new Metrics().scrape()).toContain(
      `panora_webhooks_build_info{version="${version}",node="${process.versions.node}"} 1`,
    );
  });
});

describe(serviceVersion.name, () => {
  const afterCleanup: (() => void)[] = [];
  afterEach(() => afterCleanup.splice(0).forEach((clean) => clean()));

  it('should read the nearest panora-webhooks package.json above, skipping others, or say unknown', () => {
    const root = mkdtempSync(join(tmpdir(), 'build-info-'));
    afterCleanup.push(() => rmSync(root, { recursive: true, force: true }));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'panora-webhooks', version: '9.8.7' }));
    // dist/ holding a package.json of its own (as a build could) must not win.
    mkdirSync(join(root, 'dist/src/platform/metrics'), { recursive: true });
    writeFileSync(join(root, 'dist/package.json'), JSON.stringify({ name: 'something-else', version: '0.0.1' }));
    expect(serviceVersion(join(root, 'dist/src/platform/metrics'))).toBe('9.8.7');
    expect(serviceVersion(tmpdir())).toBe('unknown');
  });
});

describe(BoundedLabel.name, () => {
  it('should keep the first values it accepts and count the rest as other', () => {
    const label = new BoundedLabel(2, (value) => /^[a-z]+$/.test(value));
    expect(['a', 'b', 'a', 'c', 'DROP'].map((value) => label.of(value))).toEqual(['a', 'b', 'a', 'other', 'other']);
  });
});
