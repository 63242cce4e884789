import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertEndpoint } from '../support/panora';

const ADMIN_KEY = 'console-admin-key-0123456789';
const READ_KEY = 'console-read-key-0123456789';
const ROOT = join(__dirname, '..', '..');
const ASSETS = join(ROOT, 'dist', 'console');
const MINUTE = 60_000;

describe('The console routes', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpointId: string;

  const get = async (path: string, key: string | null = ADMIN_KEY) => {
    const res = await fetch(`${service.baseUrl}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: text.startsWith('{') ? JSON.parse(text) : undefined,
    };
  };

  /** An inbox row as the dispatcher would have left it, received `ago` ms before now. */
  const insertEvent = async (row: {
    ago: number;
    status: string;
    type?: string;
    processedAgo?: number;
    diedAgo?: number;
    lastError?: string;
  }) => {
    const [{ id }] = await db.query<{ id: string }>(
      `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, status, received_at,
                                   processed_at, next_attempt_at, last_error)
       VALUES ($1, $2, $3, $3, '{}', $4, now() - make_interval(secs => $5::float8 / 1000),
               CASE WHEN $6::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $6::float8 / 1000) END,
               CASE WHEN $7::float8 IS NULL THEN now() + interval '1 day' ELSE now() - make_interval(secs => $7::float8 / 1000) END,
               $8)
       RETURNING id::text AS id`,
      [
        endpointId,
        randomUUID(),
        row.type ?? 'crm.deal.created',
        row.status,
        row.ago,
        row.processedAgo ?? null,
        row.diedAgo ?? null,
        row.lastError ?? null,
      ],
    );
    return id;
  };

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'console', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      env: { ADMIN_API_KEYS: ADMIN_KEY, ADMIN_READ_API_KEYS: READ_KEY },
    });
    endpointId = (await insertEndpoint(db)).id;
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  describe('GET /admin/whoami', () => {
    it('should tell a full key from a read-only one, and refuse no key', async () => {
      expect((await get('/admin/whoami')).json).toEqual({ access: 'full' });
      expect((await get('/admin/whoami', READ_KEY)).json).toEqual({ access: 'read-only' });
      expect((await get('/admin/whoami', null)).status).toBe(401);
      expect((await get('/admin/whoami', 'wrong-key-0123456789')).status).toBe(401);
    });
  });

  describe('GET /admin/stats, /admin/dead-letters, /admin/event-ids, /admin/event-cursor', () => {
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      // Oldest first, as the inbox fills: ids follow the order of reception.
      ids.old = await insertEvent({ ago: 3 * 60 * MINUTE, status: 'processed', processedAgo: 3 * 60 * MINUTE });
      ids.oldDead = await insertEvent({
        ago: 2 * 60 * MINUTE,
        status: 'dead',
        diedAgo: 2 * 60 * MINUTE,
        lastError: 'x',
      });
      ids.p1 = await insertEvent({ ago: 30 * MINUTE, status: 'processed', processedAgo: 30 * MINUTE - 1000 });
      ids.p2 = await insertEvent({ ago: 30 * MINUTE - 2000, status: 'processed', processedAgo: 2 * MINUTE });
      ids.dead1 = await insertEvent({
        ago: 20 * MINUTE,
        status: 'dead',
        diedAgo: 10 * MINUTE,
        lastError: 'crm: HTTP 500 for deal 123',
      });
      ids.dead2 = await insertEvent({
        ago: 19 * MINUTE,
        status: 'dead',
        diedAgo: 10 * MINUTE,
        lastError: 'crm: HTTP 502 for deal 9',
      });
      ids.dead3 = await insertEvent({
        ago: 18 * MINUTE,
        status: 'dead',
        type: 'crm.note.created',
        diedAgo: 5 * MINUTE,
        lastError: `No connection ${randomUUID()}`,
      });
      ids.failed = await insertEvent({ ago: 5 * MINUTE, status: 'failed', lastError: 'flaky' });
      await db.query(
        `INSERT INTO webhook_event_listeners (event_id, listener, status, attempts, last_error, updated_at)
         VALUES ($1, 'test.flaky', 'failed', 1, 'flaky', now() - interval '4 minutes')`,
        [ids.failed],
      );
    });

    it('should count each minute of the last hour, and only of the last hour', async () => {
      const { status, json } = await get('/admin/stats', READ_KEY);
      expect(status).toBe(200);
      expect(json.minutes).toHaveLength(60);
      for (const series of ['received', 'processed', 'failed', 'dead']) expect(json[series]).toHaveLength(60);
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      // p1, p2, dead1-3 and failed were received within the hour; old and oldDead were not.
      expect(sum(json.received)).toBe(6);
      expect(sum(json.processed)).toBe(2);
      expect(sum(json.failed)).toBe(1);
      expect(sum(json.dead)).toBe(3);
      // Each at its minute: the last entry is the current minute.
      const at = (series: number[], agoMinutes: number) => series[59 - agoMinutes];
      expect(at(json.dead, 10) + at(json.dead, 11)).toBe(2);
      expect(at(json.failed, 4) + at(json.failed, 5)).toBe(1);
      expect(json.backlog).toMatchObject({ failed: 1, dead: 4, received: 0, processing: 0 });
      expect(json.broker.status).toEqual(expect.any(String));
    });

    it('should count what arrives after a first poll (ended minutes are kept, the current one is counted again)', async () => {
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      const before = (await get('/admin/stats')).json;
      await insertEvent({ ago: 0, status: 'processed', processedAgo: 0 });
      const after = (await get('/admin/stats')).json;
      expect(sum(after.received)).toBe(sum(before.received) + 1);
      expect(sum(after.processed)).toBe(sum(before.processed) + 1);
      expect(after.received.at(-1)).toBeGreaterThanOrEqual(1);
    });

    it('should group dead events by type and error with ids and numbers masked, largest first', async () => {
      const { status, json } = await get('/admin/dead-letters', READ_KEY);
      expect(status).toBe(200);
      expect(json.groups).toEqual([
        expect.objectContaining({
          type: 'crm.deal.created',
          error: 'crm: HTTP N for deal N',
          count: 2,
          sampleId: ids.dead2,
        }),
        expect.objectContaining({ type: 'crm.deal.created', error: 'x', count: 1 }),
        expect.objectContaining({ type: 'crm.note.created', error: 'No connection <id>', count: 1 }),
      ]);
      const group = await get(
        `/admin/dead-letters/ids?type=crm.deal.created&error=${encodeURIComponent('crm: HTTP N for deal N')}`,
      );
      expect(group.json).toEqual({ ids: [ids.dead1, ids.dead2], truncated: false });
      expect((await get('/admin/dead-letters/ids?type=crm.deal.created')).status).toBe(400);
      expect((await get('/admin/dead-letters?limit=0')).status).toBe(400);
    });

    it('should find an event by its Panora id_event, and give a cursor that starts the list at a time', async () => {
      const [{ id_event }] = await db.query<{ id_event: string }>('SELECT id_event FROM webhook_events WHERE id = $1', [
        ids.dead1,
      ]);
      expect((await get(`/admin/event-ids?idEvent=${id_event}`)).json).toEqual({ ids: [ids.dead1] });
      expect((await get(`/admin/event-ids?idEvent=${randomUUID()}`)).json).toEqual({ ids: [] });

      const before = new Date(Date.now() - 19.5 * MINUTE).toISOString();
      const { json } = await get(`/admin/event-cursor?before=${before}`);
      expect(json).toEqual({ cursor: ids.dead2 });
      const page = await get(`/admin/events?cursor=${json.cursor}`);
      expect(page.json.items.map((e: { id: string }) => e.id)).toEqual([
        ids.dead1,
        ids.p2,
        ids.p1,
        ids.oldDead,
        ids.old,
      ]);
      expect((await get('/admin/event-cursor?before=yesterday')).status).toBe(400);
    });
  });

  describe('GET /console', () => {
    it('should serve the page with a strict CSP, frame denial and no referrer', async () => {
      const res = await get('/console', null);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      // No inline script or style for the CSP to refuse.
      expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.text).not.toMatch(/<style|\sstyle=/);

      const script = /src="(\/console\/assets\/app-\w+\.js)"/.exec(res.text)?.[1];
      expect(script).toBeDefined();
      const asset = await fetch(`${service.baseUrl}${script}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(asset.headers.get('content-encoding')).toBe('gzip');
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect(asset.headers.get('content-security-policy')).toBe(csp);
      expect((await get('/console/assets/nothing.js', null)).status).toBe(404);
    });

    it('should leave /docs its own headers (Swagger UI needs inline styles)', async () => {
      const res = await get('/docs', null);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBeNull();
    });

    it('should keep the built JavaScript under 150 KB gzipped', () => {
      const scripts = readdirSync(join(ASSETS, 'assets')).filter((name) => name.endsWith('.js'));
      expect(scripts).toHaveLength(1);
      const gzipped = gzipSync(readFileSync(join(ASSETS, 'assets', scripts[0])), { level: 9 }).length;
      expect(gzipped).toBeLessThanOrEqual(150 * 1024);
    });
  });
});
