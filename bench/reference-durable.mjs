// The yardstick: a minimal durable, verified receiver, as a competent engineer would write it in an
// afternoon. Checks Panora's signature, stores each delivery in PostgreSQL with group commit (one
// INSERT in flight; deliveries arriving meanwhile go in the next one) and answers only after the
// commit. No processing, no endpoint registry, one secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const secret = process.env.BENCH_SECRET;
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await db.query(`CREATE TABLE IF NOT EXISTS minimal_events (endpoint uuid, id_event text, type text, payload jsonb,
                PRIMARY KEY (endpoint, id_event))`);
const INSERT = `INSERT INTO minimal_events SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[])
                ON CONFLICT DO NOTHING`;

let queued = [];
let writing = false;
async function writeQueued() {
  writing = true;
  while (queued.length) {
    const batch = queued;
    queued = [];
    const columns = [0, 1, 2, 3].map((c) => batch.map((entry) => entry.row[c]));
    await db.query(INSERT, columns).then(
      () => batch.forEach((entry) => entry.done()),
      (error) => batch.forEach((entry) => entry.fail(error)),
    );
  }
  writing = false;
}
const store = (row) =>
  new Promise((done, fail) => {
    queued.push({ row, done, fail });
    if (!writing) void writeQueued();
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
app.post('/webhooks/:endpoint', async (request, reply) => {
  const { endpoint } = request.params;
  const body = request.body ?? {};
  const given = Buffer.from(String(request.headers['panora-signature'] ?? ''), 'hex');
  const expected = createHmac('sha256', secret).update(JSON.stringify(body.data)).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send();
  if (!UUID.test(endpoint) || typeof body.id_event !== 'string') return reply.code(400).send();
  const payload = typeof body.data === 'string' ? body.data : JSON.stringify(body.data);
  try {
    await store([endpoint, body.id_event, String(body.type), payload]);
  } catch {
    return reply.code(503).send();
  }
  return { received: true };
});
await app.listen({ port: Number(process.env.PORT ?? 3103), host: '127.0.0.1' });
process.send?.('ready');
