import { Logger } from '@nestjs/common';
import { FakePanora } from '../../test/support/fake-panora';
import { freePort } from '../../test/support/process';
import { PanoraApiError } from './panora-api-error';
import type { PanoraClientOptions } from './panora-http';
import { PanoraClient } from './panora.client';

const SCOPE = ['connection.created'];

describe(PanoraClient.name, () => {
  let fake: FakePanora;
  const client = (options: Partial<PanoraClientOptions> = {}) =>
    new PanoraClient({ baseUrl: fake.url, apiKey: 'test-key', timeoutMs: 2000, backoffMs: 5, ...options });
  const failure = async (call: Promise<unknown>): Promise<PanoraApiError> => {
    const error: unknown = await call.then(
      () => new Error('expected the call to fail'),
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PanoraApiError);
    return error as PanoraApiError;
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    fake = await FakePanora.start('test-key');
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  it('should register a webhook with the API key in x-api-key and return its id and secret', async () => {
    const created = await client().createWebhook({ url: 'https://example.com/hook', description: 'd', scope: SCOPE });
    expect(created.id_webhook_endpoint).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.secret).toBe(fake.webhooks.get(created.id_webhook_endpoint)!.secret);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/webhooks',
      body: { url: 'https://example.com/hook', description: 'd', scope: SCOPE },
    });
    expect(fake.requests[0].headers['x-api-key']).toBe('test-key');
    expect(fake.requests[0].headers.authorization).toBeUndefined();
  });

  it('should list, disable and delete webhooks, and read connections and linked users', async () => {
    const { id_webhook_endpoint: id } = fake.addWebhook({ url: 'https://example.com/a', scope: SCOPE });
    fake.connections.push({ id_connection: 'c1', connection_token: 't1' });
    fake.linkedUsers.set('u1', { id_linked_user: 'u1', linked_user_origin_id: 'app-user-1' });
    const panora = client();

    expect((await panora.listWebhooks()).map((row) => row.id_webhook_endpoint)).toContain(id);
    expect(await panora.updateWebhookStatus(id, false)).toMatchObject({ id_webhook_endpoint: id, active: false });
    expect(fake.requestsTo('PUT', `/webhooks/${id}`)[0].body).toEqual({ active: false });
    expect(await panora.listConnections()).toEqual([{ id_connection: 'c1', connection_token: 't1' }]);
    expect(await panora.getLinkedUser('u1')).toMatchObject({ linked_user_origin_id: 'app-user-1' });
    await panora.deleteWebhook(id);
    expect(fake.webhooks.has(id)).toBe(false);
  });

  it('should accept any 2xx, with or without a body, for PUT and DELETE', async () => {
    const { id_webhook_endpoint: id } = fake.addWebhook({ url: 'https://example.com/b', scope: SCOPE });
    fake.answerWith(201, '', { route: 'PUT /webhooks/' }).answerWith(204, '', { route: 'DELETE /webhooks/' });
    await expect(client().updateWebhookStatus(id, false)).resolves.toBeNull();
    await expect(client().deleteWebhook(id)).resolves.toBeNull();
  });

  it("should not retry a 4xx, and say Panora's status, route and message", async () => {
    fake.failWith(401);
    const error = await failure(client().listWebhooks());
    expect(error).toMatchObject({
      failure: 'http',
      status: 401,
      route: 'GET /webhooks',
      panoraMessage: 'Unauthorized',
    });
    expect(error.message).toBe('Panora answered 401 to GET /webhooks: Unauthorized; check PANORA_API_KEY');
    expect(error.answer).toBe(error.message);
    expect(fake.requests).toHaveLength(1);
  });

  it("should report Panora's 401 when the key is wrong, without the key", async () => {
    const error = await failure(client({ apiKey: 'wrong-key' }).listWebhooks());
    expect(error.status).toBe(401);
    expect(error.message).not.toContain('wrong-key');
  });

  it('should retry a 5xx with backoff, then succeed', async () => {
    fake.failWith(503, { times: 2 });
    await expect(client().listWebhooks()).resolves.toEqual(expect.any(Array));
    expect(fake.requests).toHaveLength(3);
  });

  it('should give up after the last attempt and report the 5xx', async () => {
    fake.failWith(500, { times: 5 });
    const error = await failure(client({ maxAttempts: 3 }).updateWebhookStatus('w1', false));
    expect(error).toMatchObject({ failure: 'http', status: 500, mayHaveActed: true });
    expect(error.message).toMatch(
      /^Panora answered 500 to PUT \/webhooks\/w1: Internal server error \(after 3 attempts\)$/,
    );
    expect(fake.requests).toHaveLength(3);
  });

  it('should not resend POST /webhooks after a 5xx, since Panora may have registered the endpoint', async () => {
    fake.actThenFail(500, { route: 'POST /webhooks', times: 5 });
    const error = await failure(client().createWebhook({ url: 'https://e.com/x', scope: SCOPE }));
    expect(error).toMatchObject({ failure: 'http', status: 500, mayHaveActed: true });
    expect(error.message).toBe('Panora answered 500 to POST /webhooks: Internal server error');
    expect(fake.requests).toHaveLength(1);
    expect(fake.findByUrl('https://e.com/x')).toHaveLength(1);
  });

  it('should not resend POST /webhooks after a timeout, and retry the listing that settles it', async () => {
    fake.actThenHang({ route: 'POST /webhooks' });
    const panora = client({ timeoutMs: 200 });
    const error = await failure(panora.createWebhook({ url: 'https://e.com/h', scope: SCOPE }));
    expect(error).toMatchObject({ failure: 'timeout', status: null, mayHaveActed: true });
    expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(1);
    fake.failWith(503, { route: 'GET /webhooks' });
    const listed = (await panora.listWebhooks()).filter((row) => row.url === 'https://e.com/h');
    expect(listed).toHaveLength(1);
    expect(listed[0].secret).toBe(fake.findByUrl('https://e.com/h')[0].secret);
    expect(fake.requestsTo('GET', '/webhooks')).toHaveLength(2);
  });

  it("should resend POST /webhooks after a 429, since Panora's throttler answers before acting", async () => {
    fake.throttle({ route: 'POST /webhooks' }, '0');
    const created = await client().createWebhook({ url: 'https://e.com/429', scope: SCOPE });
    expect(fake.requestsTo('POST', '/webhooks')).toHaveLength(2);
    expect(fake.findByUrl('https://e.com/429').map((row) => row.id_webhook_endpoint)).toEqual([
      created.id_webhook_endpoint,
    ]);
  });

  it('should not retry the 500 Panora answers an unknown key with, and say to check PANORA_API_KEY', async () => {
    fake.failWith(500, { times: 5 }, 'API Key not found.');
    const error = await failure(client().listConnections());
    expect(error).toMatchObject({ status: 500, apiKeyRefused: true, mayHaveActed: false });
    expect(error.message).toBe('Panora answered 500 to GET /connections: API Key not found.; check PANORA_API_KEY');
    expect(fake.requests).toHaveLength(1);
  });

  it('should say that a 4xx left nothing to settle', async () => {
    fake.failWith(400, { route: 'POST /webhooks' }, 'scope must be an array');
    const error = await failure(client().createWebhook({ url: 'https://e.com/4', scope: SCOPE }));
    expect(error).toMatchObject({ status: 400, mayHaveActed: false });
    expect(fake.requests).toHaveLength(1);
  });

  it('should time out a slow answer, retrying a GET but not a POST', async () => {
    fake.slow(500, { times: 10 });
    const get = await failure(client({ timeoutMs: 100 }).listWebhooks());
    expect(get).toMatchObject({ failure: 'timeout', status: null });
    expect(get.message).toMatch(/did not answer GET \/webhooks within 100 ms \(after 3 attempts\)/);
    expect(fake.requests).toHaveLength(3);

    fake.reset();
    fake.slow(500, { times: 10 });
    const post = await failure(client({ timeoutMs: 100 }).createWebhook({ url: 'https://e.com/y', scope: SCOPE }));
    expect(post).toMatchObject({ failure: 'timeout', mayHaveActed: true });
    expect(fake.requests).toHaveLength(1);
  });

  it('should report an unreachable Panora as a network error, without the API key', async () => {
    const port = await freePort();
    const error = await failure(
      new PanoraClient({
        baseUrl: `http://127.0.0.1:${port}`,
        apiKey: 'test-key',
        timeoutMs: 500,
        backoffMs: 1,
      }).createWebhook({
        url: 'https://e.com/z',
        scope: SCOPE,
      }),
    );
    expect(error).toMatchObject({ failure: 'network', status: null, mayHaveActed: false });
    expect(error.message).toMatch(/could not be reached .* \(ECONNREFUSED\) \(after 3 attempts\)/);
  });

  it('should turn a malformed answer into a PanoraApiError that does not echo the body', async () => {
    fake.malformed({}, '{"id_webhook_endpoint":"w1","secret":null,"note":"s3cr3t-value"}');
    const missingSecret = await failure(client().createWebhook({ url: 'https://e.com/m', scope: SCOPE }));
    expect(missingSecret).toMatchObject({ failure: 'malformed', status: 201 });
    expect(missingSecret.message).toMatch(/^Panora answered 201 to POST \/webhooks with an unexpected body \(secret: /);
    expect(missingSecret.message).not.toContain('s3cr3t');

    fake.malformed({}, '<html>not json</html>');
    expect(await failure(client().listWebhooks())).toMatchObject({ failure: 'malformed', status: 200 });
    fake.malformed({}, '{"id_linked_user":7}');
    expect(await failure(client().getLinkedUser('u1'))).toMatchObject({ failure: 'malformed' });
  });

  it('should redact the API key should Panora echo it', async () => {
    fake.failWith(400, {}, 'bad key test-key for project');
    const error = await failure(client().listWebhooks());
    expect(error.message).toBe('Panora answered 400 to GET /webhooks: bad key [redacted] for project');
  });

  it('should refuse to call without an API key, saying which setting is missing', async () => {
    const error = await failure(client({ apiKey: undefined }).listWebhooks());
    expect(error.failure).toBe('not_configured');
    expect(error.message).toMatch(/set PANORA_API_KEY/);
    expect(fake.requests).toHaveLength(0);
  });
});
