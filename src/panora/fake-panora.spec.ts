import { randomUUID } from 'node:crypto';
import { FAKE_LINKED_USER_ID, FAKE_PROJECT_ID, FakePanora } from '../../test/support/fake-panora';

/**
 * The test fake of Panora (test/support/fake-panora*.ts) serves `GET /events` and the unified CRM
 * lists as Panora's code does (panora-recovery-facts.md §0–§2): the integration specs of recovery
 * rely on it, so its shapes are pinned here, with raw HTTP.
 */
describe('FakePanora reads, as Panora serves them', () => {
  let fake: FakePanora;
  const get = async (path: string, headers: Record<string, string> = { 'x-api-key': 'test-key' }) => {
    const res = await fetch(`${fake.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get('retry-after') };
  };
  const withToken = (token: string) => ({ 'x-api-key': 'test-key', 'x-connection-token': token });
  const b64 = (id: string) => Buffer.from(id).toString('base64');

  beforeAll(async () => {
    fake = await FakePanora.start('test-key');
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    fake.events.length = 0;
    fake.reads.unified.clear();
    fake.connections.length = 0;
  });

  it('should refuse a missing key with 401 and an unknown one with 500, in the body of Panora’s filter', async () => {
    const missing = await get('/events?page=1&limit=10', {});
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      statusCode: 401,
      timestamp: expect.stringMatching(/Z$/),
      path: '/events?page=1&limit=10',
      message: 'Unauthorized',
    });
    const unknown = await get('/crm/contacts', { 'x-api-key': 'nope', 'x-connection-token': 't' });
    expect([unknown.status, unknown.body.message]).toEqual([500, 'API Key not found.']);
  });

  it('should page events newest first, 1-based, as a bare array of events rows, and validate page and limit', async () => {
    const rows = ['10:00', '12:00', '11:00'].map((time) =>
      fake.recordEvent({ type: 'crm.contact.created', id_connection: 'c1', timestamp: `2024-12-20T${time}:00Z` }),
    );
    fake.recordEvent({ type: 'crm.batchSyncStart', id_connection: null, id_linked_user: null });
    const page1 = await get('/events?page=1&limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.map((row: { id_event: string }) => row.id_event)).toEqual([rows[1].id_event, rows[2].id_event]);
    expect(page1.body[0]).toEqual({
      id_event: rows[1].id_event,
      id_connection: 'c1',
      id_project: FAKE_PROJECT_ID,
      type: 'crm.contact.created',
      status: 'success',
      direction: '0',
      method: 'POST',
      url: '/crm/contacts',
      provider: 'hubspot',
      timestamp: '2024-12-20T12:00:00.000Z',
      id_linked_user: FAKE_LINKED_USER_ID,
    });
    expect((await get('/events?page=2&limit=2')).body).toHaveLength(1);
    expect((await get('/events?page=3&limit=2')).body).toEqual([]);
    expect((await get('/events')).body).toHaveLength(3);
    for (const bad of ['page=0', 'limit=-1', 'limit=abc', 'page=']) {
      expect([bad, (await get(`/events?${bad}`)).status]).toEqual([bad, 400]);
    }
    expect((await get('/events?page=1.5')).status).toBe(500);
  });

  it('should give a delivery’s events the method and url Panora writes', () => {
    const row = (type: string) => fake.recordEvent({ type, id_connection: 'c1' });
    expect(row('crm.deal.pulled')).toMatchObject({ method: 'SYNC', url: '/sync' });
    expect(row('crm.company.push')).toMatchObject({ method: 'POST', url: '/crm/companies' });
    expect(row('connection.created')).toMatchObject({ method: 'GET', url: '/oauth2/callback' });
    expect(row('crm.note.pulled').id_event).not.toBe(row('crm.note.pulled').id_event);
  });

  it('should list unified objects by cursor: take limit+1, next_cursor names the next page’s first row, prev_cursor echoes', async () => {
    fake.connections.push({
      id_connection: 'c1',
      connection_token: 'tok-1',
      id_linked_user: 'lu1',
      provider_slug: 'hubspot',
    });
    const rows = fake.putUnified(
      'tok-1',
      'contact',
      [1, 2, 3, 4, 5].map((n) => ({ first_name: `n${n}`, remote_data: { n } })),
    );
    const first = await get('/crm/contacts?limit=2', withToken('tok-1'));
    expect(first.body).toEqual({
      prev_cursor: null,
      next_cursor: b64(rows[2].id),
      data: [rows[0], rows[1]].map(({ remote_data: _, ...row }) => row),
    });
    const second = await get(
      `/crm/contacts?limit=2&cursor=${first.body.next_cursor}&remote_data=true`,
      withToken('tok-1'),
    );
    expect(second.body.prev_cursor).toBe(first.body.next_cursor);
    expect(second.body.data).toEqual([rows[2], rows[3]]);
    expect(
      (await get(`/crm/contacts?limit=2&cursor=${second.body.next_cursor}`, withToken('tok-1'))).body,
    ).toMatchObject({
      next_cursor: null,
      data: [expect.objectContaining({ id: rows[4].id })],
    });
    expect((await get('/crm/contacts?limit=5', withToken('tok-1'))).body.next_cursor).toBeNull();
    expect(fake.events.map((event) => [event.type, event.method, event.url, event.id_connection])).toEqual(
      Array(4).fill(['crm.contact.pull', 'GET', '/crm/contacts', 'c1']),
    );
    expect(fake.events[0].id_linked_user).toBe('lu1');
  });

  it('should order companies by modified_at, the others by created_at, and write crm.<kind>.pulled on a list', async () => {
    const [a, b] = fake.putUnified('tok-2', 'company', [
      { name: 'a', created_at: '2024-01-01T00:00:00.000Z', modified_at: '2024-03-01T00:00:00.000Z' },
      { name: 'b', created_at: '2024-02-01T00:00:00.000Z', modified_at: '2024-02-15T00:00:00.000Z' },
    ]);
    const companies = await get('/crm/companies', withToken('tok-2'));
    expect(companies.body.data.map((row: { id: string }) => row.id)).toEqual([b.id, a.id]);
    expect(fake.events.at(-1)).toMatchObject({ type: 'crm.company.pulled', method: 'GET', url: '/crm/companies' });
    fake.putUnified('tok-2', 'deal', [
      { created_at: '2024-02-01T00:00:00.000Z' },
      { created_at: '2024-01-01T00:00:00.000Z' },
    ]);
    const deals = (await get('/crm/deals', withToken('tok-2'))).body.data;
    expect(deals.map((row: { created_at: string }) => row.created_at)).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-02-01T00:00:00.000Z',
    ]);
  });

  it('should answer bad cursors and unknown tokens as Panora does, and write no event for them', async () => {
    fake.putUnified('tok-3', 'deal', [{ name: 'd' }]);
    const unknownRow = b64(randomUUID());
    expect((await get(`/crm/deals?cursor=${randomUUID()}`, withToken('tok-3'))).status).toBe(400);
    expect((await get('/crm/deals?cursor=garbage', withToken('tok-3'))).status).toBe(400);
    expect((await get('/crm/deals?limit=abc', withToken('tok-3'))).status).toBe(400);
    expect((await get(`/crm/deals?cursor=${unknownRow}`, withToken('tok-3'))).body).toMatchObject({
      statusCode: 500,
      message: 'ReferenceError: The provided cursor does not exist!',
    });
    expect((await get(`/crm/notes?cursor=${unknownRow}`, withToken('tok-3'))).body.message).toBe(
      'The provided cursor does not exist!',
    );
    const unknownToken = await get('/crm/deals?limit=50', withToken('tok-unknown'));
    expect(unknownToken.body).toEqual({
      statusCode: 500,
      timestamp: expect.any(String),
      path: '/crm/deals?limit=50',
      message: 'ReferenceError: Connection undefined for token tok-unknown',
    });
    expect(fake.events).toEqual([]);
    // Without the header, Panora lists *some* connection: the reason the client never calls without one.
    expect((await get('/crm/deals', { 'x-api-key': 'test-key' })).body.data).toHaveLength(1);
  });

  it('should throttle every route past its rate limit with 429 and Retry-After, until reset', async () => {
    fake.limitRate({ limit: 2, windowMs: 30_000 });
    expect((await get('/events')).status).toBe(200);
    expect((await get('/webhooks')).status).toBe(200);
    const throttled = await get('/events?page=2');
    expect(throttled).toMatchObject({
      status: 429,
      retryAfter: '30',
      body: { statusCode: 429, path: '/events?page=2', message: 'ThrottlerException: Too Many Requests' },
    });
    fake.reset();
    expect((await get('/events')).status).toBe(200);
  });
});
