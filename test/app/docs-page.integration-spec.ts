import type { Browser } from 'playwright-core';
import { startTestApp, TestApp } from '../support/app';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { createTestDatabase, TestDatabase } from '../support/database';

const IN_BROWSER = 'GET /docs in a real browser (headless Chromium)';

/** Every route of the service, as OpenAPI names it. */
const ROUTES: [method: string, path: string][] = [
  ['post', '/webhooks/panora/{endpointId}'],
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/metrics'],
  ['post', '/admin/endpoints'],
  ['get', '/admin/endpoints'],
  ['post', '/admin/endpoints/import'],
  ['post', '/admin/endpoints/sync'],
  ['get', '/admin/endpoints/{id}'],
  ['patch', '/admin/endpoints/{id}'],
  ['delete', '/admin/endpoints/{id}'],
  ['post', '/admin/endpoints/{id}/rotate'],
  ['post', '/admin/endpoints/{id}/test-event'],
  ['get', '/admin/status'],
  ['get', '/admin/events'],
  ['get', '/admin/events/stream'],
  ['post', '/admin/events/replay'],
  ['get', '/admin/events/{id}'],
  ['post', '/admin/events/{id}/replay'],
  ['get', '/admin/connections'],
  ['post', '/admin/connections/reconcile'],
  ['get', '/admin/connections/{id}'],
  ['get', '/admin/connections/{id}/token'],
  ['get', '/admin/crm/{kind}'],
  ['get', '/admin/crm/{kind}/{id}'],
  ['get', '/admin/recovery'],
  ['post', '/admin/recovery/run'],
  // The operator console's reads (src/console).
  ['get', '/admin/whoami'],
  ['get', '/admin/stats'],
  ['get', '/admin/dead-letters'],
  ['get', '/admin/dead-letters/ids'],
  ['get', '/admin/event-ids'],
  ['get', '/admin/event-cursor'],
];

describe('OpenAPI and the docs page', () => {
  let db: TestDatabase;
  let service: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({ databaseUrl: db.url, env: { ADMIN_API_KEYS: 'docs-admin-key-0123456789' } });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  describe('GET /docs/openapi.json', () => {
    let document: any;

    beforeAll(async () => {
      const res = await fetch(`${service.baseUrl}/docs/openapi.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      document = await res.json();
    });

    it('should list every route of the service, and only those', () => {
      const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`),
      );
      expect(documented.sort()).toEqual(ROUTES.map(([method, path]) => `${method} ${path}`).sort());
    });

    it('should declare bearer auth and require it on every admin route, with its 401', () => {
      expect(document.components.securitySchemes['admin-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(document.components.securitySchemes['metrics-token']).toMatchObject({ type: 'http', scheme: 'bearer' });
      for (const [method, path] of ROUTES.filter(([, path]) => path.startsWith('/admin/'))) {
        const operation = document.paths[path][method];
        expect({ route: `${method} ${path}`, security: operation.security }).toEqual({
          route: `${method} ${path}`,
          security: [{ 'admin-key': [] }],
        });
        expect(operation.responses['401'].content['application/json'].schema).toEqual({
          $ref: '#/components/schemas/ErrorBodyDto',
        });
      }
      // The token, or none: open while METRICS_TOKEN is unset.
      expect(document.paths['/metrics'].get.security).toEqual([{ 'metrics-token': [] }, {}]);
    });

    it('should give every operation a summary, a tag and a documented success answer', () => {
      for (const [method, path] of ROUTES) {
        const operation = document.paths[path][method];
        const route = `${method} ${path}`;
        expect({ route, summary: typeof operation.summary }).toEqual({ route, summary: 'string' });
        expect({ route, tags: operation.tags?.length }).toEqual({ route, tags: 1 });
        const success = Object.keys(operation.responses).filter((status) => /^2\d\d$/.test(status));
        expect({ route, success: success.length }).toEqual({ route, success: 1 });
        // Every error answer documented is the filter's body.
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          if (Number(status) >= 400 && path !== '/health/ready') {
            expect({ route, status, schema: response.content?.['application/json']?.schema }).toEqual({
              route,
              status,
              schema: { $ref: '#/components/schemas/ErrorBodyDto' },
            });
          }
        }
      }
    });

    it('should document request bodies, queries and answers with their fields', () => {
      const schemas = document.components.schemas;
      expect(schemas.ImportEndpointDto.required).toEqual(['secret']);
      expect(schemas.CreateEndpointDto.properties.scope).toMatchObject({ type: 'array', minItems: 1 });
      expect(schemas.SendTestEventDto.properties.type.enum).toContain('connection.created');
      expect(Object.keys(schemas.EndpointView.properties)).toEqual(
        expect.arrayContaining(['id', 'receiveUrl', 'scope', 'active', 'secrets']),
      );
      expect(schemas.SecretView.properties).not.toHaveProperty('secret');
      expect(schemas.ConnectionTokenDto.required).toEqual(['idConnection', 'connectionToken']);
      const list = document.paths['/admin/events'].get;
      expect(list.parameters.map((p: any) => p.name).sort()).toEqual([
        'cursor',
        'endpointId',
        'limit',
        'status',
        'type',
      ]);
      expect(list.responses['200'].content['application/json'].schema.properties.items.items).toEqual({
        $ref: '#/components/schemas/EventSummary',
      });
      const receive = document.paths['/webhooks/panora/{endpointId}'].post;
      expect(receive.parameters.map((p: any) => p.name)).toEqual(
        expect.arrayContaining(['endpointId', 'Panora-Signature']),
      );
      expect(Object.keys(receive.responses).sort()).toEqual(['200', '400', '401', '404', '413', '415', '503']);
    });
  });

  describeWithChromium(IN_BROWSER)(IN_BROWSER, () => {
    let browser: Browser;

    beforeAll(async () => {
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('should render every route of the admin API, loading nothing from anywhere else', async () => {
      const page = await browser.newPage();
      const requested: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('pageerror', (error) => pageErrors.push(error.message));

      const response = await page.goto(`${service.baseUrl}/docs`);
      expect(response?.status()).toBe(200);
      await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });

      expect(await page.locator('.info .title').innerText()).toContain('panora-webhooks');
      const listed = await page.locator('.opblock-summary').evaluateAll((elements) =>
        elements.map((element) => {
          const method = element.querySelector('.opblock-summary-method')?.textContent?.trim().toLowerCase();
          const path = element.querySelector('.opblock-summary-path')?.getAttribute('data-path');
          return `${method} ${path}`;
        }),
      );
      expect(listed.sort()).toEqual(ROUTES.map(([method, path]) => `${method} ${path}`).sort());
      // Bearer auth is declared: the page offers to authorise.
      await expect(page.locator('.auth-wrapper .authorize').count()).resolves.toBe(1);

      expect(pageErrors).toEqual([]);
      const elsewhere = requested.filter((url) => !url.startsWith(`${service.baseUrl}/`) && !url.startsWith('data:'));
      expect(elsewhere).toEqual([]);
      await page.close();
    });
  });
});
