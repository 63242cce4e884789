import { Logger } from '@nestjs/common';
import { FakePanora } from '../../test/support/fake-panora';
import { PanoraApiError } from './panora-api-error';
import type { PanoraClientOptions } from './panora-http';
import { PanoraClient } from './panora.client';

const TOKEN = 'conn-token-7f3a9c';

describe('PanoraClient reads (GET /events, unified lists)', () => {
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
  /** Everything an error carries that could end up in a log line or a row. */
  const everything = (error: PanoraApiError) =>
    JSON.stringify({ ...error, message: error.message, answer: error.answer });
  const query = (index: number) => new URL(fake.requests[index].url, fake.url).searchParams;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    fake = await FakePanora.start('test-key');
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    fake.events.length = 0;
    fake.reads.unified.clear();
    fake.connections.length = 0;
  });

  describe('listEvents', () => {
    it('should ask page and limit, and return the rows newest first with only the fields it declares', async () => {
      const older = fake.recordEvent({
        type: 'connection.created',
        id_connection: 'c1',
        timestamp: '2024-12-20T10:00:00Z',
      });
      const newer = fake.recordEvent({
        type: 'crm.contact.pulled',
        id_connection: 'c1',
        timestamp: '2024-12-20T11:00:00Z',
      });
      fake.recordEvent({ type: 'crm.company.push', id_connection: null, timestamp: '2024-12-20T09:00:00Z' });

      const first = await client().listEvents(1, 2);
      expect(first).toEqual([
        {
          id_event: newer.id_event,
          type: 'crm.contact.pulled',
          id_connection: 'c1',
          status: 'success',
          method: 'SYNC',
          url: '/sync',
          provider: 'hubspot',
          timestamp: '2024-12-20T11:00:00.000Z',
          id_linked_user: newer.id_linked_user,
        },
        expect.objectContaining({ id_event: older.id_event, method: 'GET', url: '/oauth2/callback' }),
      ]);
      expect(first[0]).not.toHaveProperty('id_project');
      expect(await client().listEvents(2, 2)).toEqual([
        expect.objectContaining({
          type: 'crm.company.push',
          method: 'POST',
          url: '/crm/companies',
          id_connection: null,
        }),
      ]);
      expect(await client().listEvents(3, 2)).toEqual([]);
      expect([query(0).get('page'), query(0).get('limit')]).toEqual(['1', '2']);
      expect([query(2).get('page'), query(2).get('limit')]).toEqual(['3', '2']);
      expect(fake.requests[0].headers['x-api-key']).toBe('test-key');
    });

    it('should accept a page wrapped in {data: [...]}, ignore unknown fields and read a numeric timestamp', async () => {
      const row = { id_event: 'e1', type: 'crm.deal.push', timestamp: Date.UTC(2024, 11, 20), extra: { x: 1 } };
      fake.answerWith(200, JSON.stringify({ data: [row], total: 1 }), { route: 'GET /events' });
      expect(await client().listEvents(1, 10)).toEqual([
        {
          id_event: 'e1',
          type: 'crm.deal.push',
          id_connection: null,
          status: null,
          method: null,
          url: null,
          provider: null,
          timestamp: '2024-12-20T00:00:00.000Z',
          id_linked_user: null,
        },
      ]);
    });

    it('should report a row it cannot read as malformed, without its values', async () => {
      fake.answerWith(200, JSON.stringify([{ id_event: 'e1', type: 'x', timestamp: 'secret-ish-not-a-date' }]));
      const error = await failure(client().listEvents(1, 10));
      expect(error).toMatchObject({ failure: 'malformed', route: 'GET /events', status: 200 });
      expect(error.message).toMatch(/^Panora answered 200 to GET \/events with an unexpected body \(0\.timestamp: /);
      expect(error.message).not.toContain('secret-ish');
    });

    it('should refuse a page or limit that is not a positive integer, before any request', async () => {
      await expect(client().listEvents(0, 10)).rejects.toThrow(RangeError);
      await expect(client().listEvents(1, 1.5)).rejects.toThrow(RangeError);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('listUnified', () => {
    it('should walk the pages with the token in x-connection-token, sending each cursor back verbatim', async () => {
      const rows = fake.putUnified(TOKEN, 'contact', [{ first_name: 'A' }, { first_name: 'B' }, { first_name: 'C' }]);
      const panora = client();

      const first = await panora.listUnified('crm/contacts', TOKEN, { limit: 2 });
      expect(first.data.map((row) => (row as { id: string }).id)).toEqual([rows[0].id, rows[1].id]);
      expect(first.nextCursor).toBe(Buffer.from(rows[2].id).toString('base64'));
      const last = await panora.listUnified('/crm/contacts', TOKEN, { limit: 2, cursor: first.nextCursor });
      expect(last).toEqual({ data: [expect.objectContaining({ id: rows[2].id, first_name: 'C' })], nextCursor: null });

      expect(fake.requests.map((request) => request.path)).toEqual(['/crm/contacts', '/crm/contacts']);
      expect(query(0).get('limit')).toBe('2');
      expect(query(0).has('cursor')).toBe(false);
      expect(query(1).get('cursor')).toBe(first.nextCursor);
      for (const request of fake.requests) {
        expect(request.headers['x-connection-token']).toBe(TOKEN);
        expect(request.headers['x-api-key']).toBe('test-key');
      }
    });

    it('should pass a cursor on exactly as given, whatever its characters', async () => {
      fake.answerWith(200, JSON.stringify({ prev_cursor: null, next_cursor: null, data: [] }));
      const cursor = 'YS+b/c==&x=1';
      await client().listUnified('crm/deals', TOKEN, { limit: 5, cursor });
      expect(query(0).get('cursor')).toBe(cursor);
      expect(fake.requests[0].path).toBe('/crm/deals');
    });

    it.each([
      ['an empty token', ''],
      ['a blank token', '   '],
      ['no token', undefined],
      ['a token no header can carry', 'tok\nen'],
    ])('should refuse %s before any request', async (_, token) => {
      const error = await failure(client().listUnified('crm/contacts', token as string, { limit: 10 }));
      expect(error).toMatchObject({
        failure: 'no_token',
        route: 'GET /crm/contacts',
        status: null,
        mayHaveActed: false,
      });
      if (token) expect(error.message).not.toContain(token);
      expect(fake.requests).toHaveLength(0);
    });

    it('should say connectionRefused when Panora does not know the token, without the token anywhere', async () => {
      const error = await failure(client().listUnified('crm/contacts', TOKEN, { limit: 10 }));
      expect(error).toMatchObject({ failure: 'http', status: 500, connectionRefused: true, mayHaveActed: false });
      expect(error.message).toBe(
        'Panora answered 500 to GET /crm/contacts: ReferenceError: Connection undefined for token [redacted]',
      );
      expect(everything(error)).not.toContain(TOKEN);
      expect(fake.requests).toHaveLength(1);
    });

    it('should redact whatever Panora puts after "for token", even a value this call did not send', async () => {
      fake.failWith(500, {}, 'ReferenceError: Connection undefined for token other-token-value');
      const error = await failure(client().listUnified('crm/companies', TOKEN, { limit: 10 }));
      expect(error.connectionRefused).toBe(true);
      expect(everything(error)).not.toContain('other-token-value');
    });

    it('should say cursorRefused when Panora does not know the cursor, and not retry', async () => {
      fake.putUnified(TOKEN, 'deal', [{ name: 'D' }]);
      const cursor = Buffer.from('00000000-0000-4000-8000-000000000000').toString('base64');
      const error = await failure(client().listUnified('crm/deals', TOKEN, { limit: 10, cursor }));
      expect(error).toMatchObject({ status: 500, cursorRefused: true, connectionRefused: false });
      expect(error.panoraMessage).toBe('ReferenceError: The provided cursor does not exist!');
      expect(fake.requests).toHaveLength(1);
    });

    it('should refuse a path that is not a unified list before any request', async () => {
      await expect(client().listUnified('../events', TOKEN, { limit: 10 })).rejects.toThrow(RangeError);
      await expect(client().listUnified('crm/contacts', TOKEN, { limit: 0 })).rejects.toThrow(RangeError);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('rate limits, keys and metrics', () => {
    it('should wait out a 429 for its Retry-After, then succeed', async () => {
      fake.throttle({ route: 'GET /events' }, '0');
      expect(await client().listEvents(1, 10)).toEqual([]);
      expect(fake.requests).toHaveLength(2);
    });

    it('should give up after its attempts and report 429 with retryAfterMs', async () => {
      fake.throttle({ times: 5 }, '0');
      const error = await failure(client({ maxAttempts: 3 }).listUnified('crm/notes', TOKEN, { limit: 10 }));
      expect(error).toMatchObject({ failure: 'http', status: 429, retryAfterMs: 0, mayHaveActed: false });
      expect(error.message).toMatch(
        /^Panora answered 429 to GET \/crm\/notes: ThrottlerException: Too Many Requests \(after 3 attempts\)/,
      );
      expect(fake.requests).toHaveLength(3);
    });

    it('should fail at once when Retry-After is longer than it waits, saying how long', async () => {
      fake.limitRate({ limit: 1, windowMs: 60_000 });
      await client().listEvents(1, 10);
      const error = await failure(client().listEvents(1, 10));
      expect(error).toMatchObject({ status: 429, retryAfterMs: 60_000 });
      expect(error.message).toMatch(/Panora asks to retry after 60000 ms$/);
      expect(fake.requests).toHaveLength(2);
    });

    it('should count a 429 without Retry-After as a retry after its own backoff', async () => {
      fake.throttle({}, null);
      await expect(client().listEvents(1, 10)).resolves.toEqual([]);
      expect(fake.requests).toHaveLength(2);
    });

    it.each([
      ['an unknown key (Panora answers 500 "API Key not found.")', 'wrong-key', 500],
      ['a key Panora refuses with 401', 'test-key', 401],
    ])('should not retry %s, and say to check PANORA_API_KEY', async (_, apiKey, status) => {
      if (status === 401) fake.failWith(401, { times: 5 });
      const error = await failure(client({ apiKey }).listEvents(1, 10));
      expect(error).toMatchObject({ status, apiKeyRefused: true, mayHaveActed: false });
      expect(error.message).toMatch(/; check PANORA_API_KEY$/);
      expect(error.answer).toBe(error.message);
      expect(error.message).not.toContain('wrong-key');
      expect(fake.requests).toHaveLength(1);
    });

    it('should refuse to call without an API key', async () => {
      const error = await failure(client({ apiKey: undefined }).listUnified('crm/contacts', TOKEN, { limit: 1 }));
      expect(error.failure).toBe('not_configured');
      expect(fake.requests).toHaveLength(0);
    });

    it('should tell the metrics hook the route without query, cursor or token', async () => {
      const attempts: [string, number | string][] = [];
      const panora = client({ onAttempt: (route, status) => attempts.push([route, status]) });
      fake.putUnified(TOKEN, 'company', [{ name: 'A' }, { name: 'B' }]);
      const { nextCursor } = await panora.listUnified('crm/companies', TOKEN, { limit: 1 });
      await panora.listUnified('crm/companies', TOKEN, { limit: 1, cursor: nextCursor });
      fake.throttle({}, '0');
      await panora.listEvents(4, 10);
      expect(attempts).toEqual([
        ['GET /crm/companies', 200],
        ['GET /crm/companies', 200],
        ['GET /events', 429],
        ['GET /events', 200],
      ]);
    });
  });
});
