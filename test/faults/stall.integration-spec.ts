import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint } from '../support/panora';
import { freePort, ServiceProcess, spawnService, waitForOk } from '../support/process';
import { rawRequest } from '../support/raw-http';
import { assertBuilt } from './support/build';

/** Valid deliveries measured while the junk flows. */
const VALID = 100;
const FIVE_MB = 5 * 1024 * 1024;

/** A JSON body of about 5 MB that parses (an array of small objects: the costliest to parse). */
function jsonJunk(): Buffer {
  const rows: string[] = [];
  let size = 60;
  for (let i = 0; size < FIVE_MB - 200; i++) {
    const row = `{"id":${i},"name":"row ${i}","tags":["a","b","c"],"ok":true}`;
    rows.push(row);
    size += row.length + 1;
  }
  return Buffer.from(`{"id_event":"junk","type":"crm.contact.pulled","data":[${rows.join(',')}]}`);
}

/** The same size, form-encoded. */
function formJunk(): Buffer {
  const fields: string[] = [];
  let size = 0;
  for (let i = 0; size < FIVE_MB - 100; i++) {
    const field = `f${i}=${'v'.repeat(20)}`;
    fields.push(field);
    size += field.length + 1;
  }
  return Buffer.from(fields.join('&'));
}

interface Answer {
  status: number;
  ms: number;
}

/** POSTs a body on a fresh connection; a connection the server closed early counts as status 0. */
function postBody(port: number, path: string, contentType: string, body: Buffer, headers = {}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent: false,
        headers: { 'content-type': contentType, 'content-length': body.length, ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

describe('Fault: one sender of large junk bodies cannot stall the receiver', () => {
  let db: TestDatabase;
  let service: ServiceProcess;
  let port: number;
  let endpoint: { id: string; secret: string };

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    endpoint = await insertEndpoint(db);
    port = await freePort();
    service = spawnService({
      DATABASE_URL: db.url,
      PORT: String(port),
      SECRETS_KEY: TEST_SECRETS_KEY,
      LOG_LEVEL: 'warn',
      ADMIN_API_KEYS: randomUUID(),
      WEBHOOK_BODY_LIMIT: '6mb',
    });
    await waitForOk(`http://127.0.0.1:${port}/health/ready`, service, 60_000);
    const warm = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
    expect((await rawRequest({ port, path: `/webhooks/panora/${endpoint.id}`, ...warm })).status).toBe(200);
  });

  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    await db?.drop();
  });

  it('refuses an unknown endpoint id and a non-JSON content type before reading the body', async () => {
    // The head promises 5 MB and sends none of it: an answer that comes anyway was given unread.
    const unread = (path: string, contentType: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path,
            agent: false,
            headers: { 'content-type': contentType, 'content-length': FIVE_MB },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        setTimeout(() => reject(new Error(`no answer to ${contentType} on ${path} before the body`)), 5_000).unref();
      });
    expect(await unread(`/webhooks/panora/${randomUUID()}`, 'application/json')).toBe(404);
    expect(await unread(`/webhooks/panora/${endpoint.id}`, 'application/x-www-form-urlencoded')).toBe(415);
    expect(await unread(`/webhooks/panora/${endpoint.id}`, 'text/plain')).toBe(415);
  });

  it('answers valid deliveries promptly while three clients send 5 MB junk bodies', async () => {
    const json = jsonJunk();
    const form = formJunk();
    const junkAnswers: number[] = [];
    let stop = false;
    const junkSender = async (next: () => [string, string, Buffer]) => {
      while (!stop) {
        const [path, contentType, body] = next();
        const answer = await postBody(port, path, contentType, body, { 'panora-signature': 'a'.repeat(64) });
        junkAnswers.push(answer.status);
      }
    };
    let turn = 0;
    const senders = [
      junkSender(() => [`/webhooks/panora/${endpoint.id}`, 'application/json', json]),
      junkSender(() => [`/webhooks/panora/${endpoint.id}`, 'application/json', json]),
      junkSender(() =>
        turn++ % 2 === 0
          ? [`/webhooks/panora/${randomUUID()}`, 'application/json', json]
          : [`/webhooks/panora/${endpoint.id}`, 'application/x-www-form-urlencoded', form],
      ),
    ];

    const valid: Answer[] = [];
    try {
      // Let the junk get going first.
      while (junkAnswers.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
      for (let i = 0; i < VALID; i++) {
        const d = delivery({ secret: endpoint.secret, type: 'connection.created', payload: connectionPayload() });
        valid.push(
          await postBody(port, `/webhooks/panora/${endpoint.id}`, 'application/json', Buffer.from(d.body), {
            'panora-signature': d.headers['panora-signature'],
          }),
        );
      }
    } finally {
      stop = true;
      await Promise.all(senders);
    }

    const latencies = valid.map((a) => a.ms).sort((a, b) => a - b);
    const p95 = latencies[Math.ceil(latencies.length * 0.95) - 1];
    console.info(
      `stall suite: ${junkAnswers.length} junk bodies answered meanwhile; valid p50 ${latencies[latencies.length >> 1].toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
    );
    expect(valid.map((a) => a.status)).toEqual(Array(VALID).fill(200));
    expect(junkAnswers.length).toBeGreaterThanOrEqual(3);
    // Junk is refused as what it is, never as a database outage.
    expect(junkAnswers.filter((s) => ![401, 404, 415, 0].includes(s))).toEqual([]);
    expect(p95).toBeLessThanOrEqual(200);
    expect(latencies[latencies.length - 1]).toBeLessThan(1_000);
    const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events');
    expect(n).toBe(VALID + 1);
  });
});
