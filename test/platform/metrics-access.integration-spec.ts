import { ConfigError } from '../../src/platform/config/env.schema';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { LogCapture } from '../support/log-capture';

const METRICS_TOKEN = 'metrics-access-token-0123456789';

/** The start-up line MetricsModule logs, parsed; one per app started. */
const accessLines = (logs: LogCapture) =>
  logs
    .text()
    .split('\n')
    .filter((line) => line.includes('GET /metrics'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; metricsAccess: string });

describe('GET /metrics in production: a token, or opened on purpose', () => {
  let db: TestDatabase;
  const logs = new LogCapture();
  const apps: TestApp[] = [];

  const start = async (env: Record<string, string>) => {
    const app = await startTestApp({
      databaseUrl: db.url,
      override: logs.override,
      env: { NODE_ENV: 'production', ...env },
    });
    apps.push(app);
    return app;
  };
  const scrape = async (app: TestApp, token?: string) =>
    (await fetch(`${app.baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).status;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.drop();
  });

  it('should refuse to start with neither METRICS_TOKEN nor METRICS_PUBLIC, on one line saying to set one', async () => {
    const refused = await start({}).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    const message = (refused as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(
      /METRICS_TOKEN: required when NODE_ENV=production: set METRICS_TOKEN .* or METRICS_PUBLIC=true/,
    );
    expect(accessLines(logs)).toEqual([]);
  });

  it('should open /metrics with METRICS_PUBLIC=true, and say so once at start', async () => {
    const open = await start({ METRICS_PUBLIC: 'true' });
    expect(await scrape(open)).toBe(200);
    expect(accessLines(logs)).toEqual([
      expect.objectContaining({ msg: 'GET /metrics is public (METRICS_PUBLIC=true)', metricsAccess: 'public' }),
    ]);
  });

  it('should need the token with METRICS_TOKEN, and say so once at start', async () => {
    const closed = await start({ METRICS_TOKEN });
    expect(await scrape(closed)).toBe(401);
    expect(await scrape(closed, METRICS_TOKEN)).toBe(200);
    expect(accessLines(logs)[1]).toEqual(
      expect.objectContaining({ msg: 'GET /metrics needs the metrics token (METRICS_TOKEN)', metricsAccess: 'token' }),
    );
    expect(accessLines(logs)).toHaveLength(2);
  });
});
