import { request as httpRequest, type IncomingMessage } from 'node:http';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, waitFor } from '../support/panora';
import { TestListenersModule } from '../support/test-listeners';

const ADMIN_KEY = 'stream-admin-key-0123456789';
const READ_KEY = 'stream-read-key-0123456789';

interface Message {
  id?: string;
  event?: string;
  data?: { id: string; status: string; type: string; idEvent: string } & Record<string, unknown>;
}

/** A real HTTP client on the stream: parses each SSE block as an EventSource would. */
class StreamClient {
  readonly messages: Message[] = [];
  /** The EventSource's last event id: from every block with an id, data or not (heartbeats too). */
  lastEventId?: string;
  ended = false;
  status?: number;
  body = '';
  private response?: IncomingMessage;
  private readonly req;

  constructor(url: string, headers: Record<string, string>) {
    this.req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      this.response = res;
      this.status = res.statusCode;
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        this.body += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.block(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('end', () => (this.ended = true));
      res.on('close', () => (this.ended = true));
    });
    this.req.on('error', () => (this.ended = true));
    this.req.end();
  }

  private block(text: string) {
    const message: Message = {};
    let data: string | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) continue;
      const [field, ...rest] = line.split(':');
      const value = rest.join(':').replace(/^ /, '');
      if (field === 'id') message.id = this.lastEventId = value;
      if (field === 'event') message.event = value;
      if (field === 'data') data = value;
    }
    if (data !== undefined) {
      message.data = JSON.parse(data);
      this.messages.push(message);
    }
  }

  /** Waits until every event in `ids` showed `status`. */
  until(ids: string[], status: string, what: string) {
    return waitFor(
      async () => ids.every((id) => this.messages.some((m) => m.data?.id === id && m.event === status)),
      30_000,
      what,
    );
  }

  close() {
    this.response?.destroy();
    this.req.destroy();
  }
}

describe('Event stream (GET /admin/events/stream)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  const clients: StreamClient[] = [];

  const open = (query = '', headers: Record<string, string> = {}, key = ADMIN_KEY) => {
    const client = new StreamClient(`${service.baseUrl}/admin/events/stream${query}`, {
      authorization: `Bearer ${key}`,
      ...headers,
    });
    clients.push(client);
    return client;
  };
  /** Sends a signed connection.created delivery; answers its inbox id. */
  const send = async (type = 'connection.created', payload: unknown = connectionPayload()) => {
    const d = delivery({ secret: endpoint.secret, type, payload });
    expect((await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d)).status).toBe(200);
    const [row] = await db.query<{ id: string }>('SELECT id::text FROM webhook_events WHERE id_event = $1', [
      d.idEvent,
    ]);
    return row.id;
  };
  const settled = (ids: string[]) =>
    waitFor(
      async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1::bigint[]) AND status = 'processed'`,
            [ids],
          )
        )[0].n === ids.length,
      30_000,
      'events processed',
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: { ADMIN_API_KEYS: ADMIN_KEY, ADMIN_READ_API_KEYS: READ_KEY },
    });
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.contact.created'] });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('should stream events as they are received and processed, and resume after a disconnect with no gap and no repeat', async () => {
    const first = open('', {}, READ_KEY);
    await waitFor(async () => first.status, 5_000, 'the stream to open');
    expect(first.status).toBe(200);
    const before = [await send(), await send(), await send()];
    await first.until(before, 'processed', 'the first three processed on the stream');
    const last = first.messages[first.messages.length - 1];
    expect(last.data?.type).toBe('connection.created');
    expect(JSON.stringify(first.messages)).not.toMatch(/connection_token|access_token|payload/);
    first.close();
    const resumeFrom = first.lastEventId!;

    // While nobody listens: three more, all processed before the client comes back.
    const during = [await send(), await send(), await send()];
    await settled(during);

    const second = open('', { 'last-event-id': resumeFrom });
    await second.until(during, 'processed', 'the three sent while disconnected');
    const after = [await send()];
    await second.until(after, 'processed', 'one sent after the resume');

    const firstIds = new Set(first.messages.map((m) => m.id));
    expect(second.messages.filter((m) => firstIds.has(m.id))).toEqual([]);
    expect(second.messages.filter((m) => before.includes(m.data!.id))).toEqual([]);
    const seen = second.messages.map((m) => m.id!.split('-').map(BigInt));
    const ordered = [...seen].sort(([ax, ai], [bx, bi]) =>
      ax !== bx ? (ax < bx ? -1 : 1) : ai < bi ? -1 : ai > bi ? 1 : 0,
    );
    // In stream order, each position once.
    expect(seen).toEqual(ordered);
    expect(new Set(second.messages.map((m) => m.id)).size).toBe(seen.length);
    // ?since= resumes the same way as the header.
    const third = open(`?since=${resumeFrom}`);
    await third.until([...during, ...after], 'processed', 'the same events through ?since=');
  });

  it('should only send events that match its filters', async () => {
    const connections = open('?type=connection.created&status=processed');
    await waitFor(async () => connections.status, 5_000, 'the stream to open');
    const deal = await send('crm.deal.created', { id: 'deal-1' }); // test.broken fails it
    const connection = await send();
    await waitFor(
      async () =>
        (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id = $1', [deal]))[0].status ===
        'failed',
      30_000,
      'the deal to fail',
    );
    // Stored after the deal failed: once it is on the stream, the deal's changes were read too,
    // and a wrong match would be there.
    const later = await send();
    await connections.until([connection, later], 'processed', 'both connections');
    expect(connections.messages.map((m) => [m.data!.id, m.event])).toEqual([
      [connection, 'processed'],
      [later, 'processed'],
    ]);
  });

  it('should refuse bad filters, bad cursors and missing keys with a clear answer', async () => {
    const answer = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${service.baseUrl}/admin/events/stream${query}`, { headers });
      return { status: res.status, body: (await res.json()) as { message: string | string[] } };
    };
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    expect(await answer('?status=bogus', auth)).toMatchObject({
      status: 400,
      body: { message: ['status must be one of: received, processing, processed, failed, dead'] },
    });
    expect(await answer('?endpointId=nope', auth)).toMatchObject({
      status: 400,
      body: { message: ['endpointId must be an endpoint id (UUID)'] },
    });
    expect(await answer('', { ...auth, 'last-event-id': 'yesterday' })).toMatchObject({
      status: 400,
      body: { message: 'Last-Event-ID must be the id of a stream message (like 812345-1042)' },
    });
    expect((await answer('')).status).toBe(401);
  });

  it('should end open streams when the service shuts down, without holding it', async () => {
    const own = await startTestApp({
      databaseUrl: db.url,
      env: { ADMIN_API_KEYS: ADMIN_KEY },
    });
    const streams = [1, 2, 3].map(
      () => new StreamClient(`${own.baseUrl}/admin/events/stream`, { authorization: `Bearer ${ADMIN_KEY}` }),
    );
    clients.push(...streams);
    await waitFor(async () => streams.every((s) => s.status === 200), 5_000, 'the streams to open');
    await own.close();
    await waitFor(async () => streams.every((s) => s.ended), 5_000, 'the streams to end');
  });
});
