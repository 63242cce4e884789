import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { TEST_SECRETS_KEY } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { SecretLedger } from '../support/leaks';
import { insertEndpoint, testSecretBox, waitFor } from '../support/panora';
import { freePort, ServiceProcess, spawnService, waitForOk } from '../support/process';
import { Delivery, mixedDeliveries, pool, postDelivery } from './support/load';
import { assertBuilt } from './support/build';
import { LISTENER_OUTCOMES } from '../support/listener-outcomes';

// The deadlines below (waitFor, waitForOk) fail first, with what they waited for; this only has
// to exceed their sum on a loaded machine (each test takes a few seconds usually).
jest.setTimeout(300_000);

/** Deliveries sent while the service is killed (the issue asks for at least 2,000). */
const N = 2_400;
const CONCURRENCY = 32;

interface Run {
  db: TestDatabase;
  endpoint: { id: string; secret: string };
  logs: string[];
}

async function startService(run: Run): Promise<{ service: ServiceProcess; url: string }> {
  const port = await freePort();
  const service = spawnService({
    DATABASE_URL: run.db.url,
    PORT: String(port),
    SECRETS_KEY: TEST_SECRETS_KEY,
    LOG_LEVEL: 'debug',
    // Events claimed by the killed process are taken again half a second after the restart.
    DISPATCH_LEASE_MS: '500',
    DISPATCH_POLL_MS: '200',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_RETRY_MAX_MS: '200',
  });
  // A generous deadline: the start of a Nest app on a loaded two-core machine.
  await waitForOk(`http://127.0.0.1:${port}/health/ready`, service, 60_000);
  return { service, url: `http://127.0.0.1:${port}/webhooks/panora/${run.endpoint.id}` };
}

async function stopService(run: Run, service: ServiceProcess): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
  await service.exited;
  run.logs.push(service.output());
}

/** Sends until a 2xx comes back, as a sender with retries would. */
async function sendWithRetries(url: string, d: Delivery, attempts = 10): Promise<{ status: number; text: string }> {
  let answer = { status: 0, text: '' };
  for (let i = 0; i < attempts; i++) {
    answer = await postDelivery(url, d);
    if (answer.status >= 200 && answer.status < 300) return answer;
    await sleep(100 * (i + 1));
  }
  return answer;
}

async function allProcessed(db: TestDatabase, expected: number): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await db.query<{ total: number; open: number }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status <> 'processed')::int AS open FROM webhook_events`,
      );
      return row.total === expected && row.open === 0;
    },
    60_000,
    `${expected} events processed`,
  );
}

/** The connections as a user sees them: no timestamps or inbox ids, the token opened. */
async function connectionsState(db: TestDatabase) {
  const box = testSecretBox();
  const rows = await db.query<Record<string, any>>(
    `SELECT id_connection, provider_slug, vertical, status, account_url, id_project, id_linked_user,
            linked_user_origin_id, token_hint, panora_created_at, source, sealed_connection_token
       FROM connections ORDER BY id_connection`,
  );
  return rows.map(({ sealed_connection_token, ...row }) => ({
    ...row,
    token: sealed_connection_token ? box.open(sealed_connection_token) : null,
  }));
}

async function crmState(db: TestDatabase) {
  return db.query(
    `SELECT kind, panora_id, remote_id, connection_id, name, email, domain, modified_at, shape, data, deleted_at
       FROM crm_objects ORDER BY kind, panora_id`,
  );
}

const VOLATILE = new Set(['createdAt', 'updatedAt', 'firstEventId', 'lastEventId', 'firstSeenAt', 'receivedAt']);

/** Outbox messages per entity key, in publish order, without what differs between two runs. */
async function outboxByKey(run: Run): Promise<Map<string, { type: string; data: unknown }[]>> {
  const rows = await run.db.query<{ type: string; entity_key: string; payload: Record<string, unknown> }>(
    'SELECT type, entity_key, payload FROM outbox_messages ORDER BY seq',
  );
  const byKey = new Map<string, { type: string; data: unknown }[]>();
  for (const row of rows) {
    const key = row.entity_key.replace(run.endpoint.id, '<endpoint>');
    const data = Object.fromEntries(
      Object.entries(row.payload)
        .filter(([field]) => !VOLATILE.has(field))
        .map(([field, value]) => [field, field === 'endpointId' ? '<endpoint>' : value]),
    );
    byKey.set(key, [...(byKey.get(key) ?? []), { type: row.type, data }]);
  }
  return byKey;
}

describe('Fault: the service is killed (SIGKILL) while deliveries arrive', () => {
  const crashed: Run = { db: undefined as never, endpoint: undefined as never, logs: [] };
  const clean: Run = { db: undefined as never, endpoint: undefined as never, logs: [] };
  const ledger = new SecretLedger();
  let deliveries: Delivery[];
  const firstAnswers = new Map<string, number>();
  const acknowledged = new Set<string>();
  /** Events claimed (status processing) by the killed process: handed to listeners again after the restart. */
  let inFlightAtKill = new Set<string>();
  const measured: Record<string, unknown> = {};

  beforeAll(async () => {
    assertBuilt();
    [crashed.db, clean.db] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    crashed.endpoint = await insertEndpoint(crashed.db);
    // The same secret: the very same signed deliveries are valid at both.
    clean.endpoint = await insertEndpoint(clean.db, { secret: crashed.endpoint.secret });
    deliveries = mixedDeliveries(crashed.endpoint.secret, N);
    ledger.add('endpoint secret', crashed.endpoint.secret);
    for (const d of deliveries) ledger.add('connection token', d.token).add('signature', d.headers['panora-signature']);
    ledger.add('secrets key', TEST_SECRETS_KEY).add('oauth blob', 'enc:panora-access-blob', 'enc:panora-refresh-blob');
  });

  afterAll(async () => {
    console.info(`crash suite: ${JSON.stringify(measured)}`);
    await Promise.all([crashed.db?.drop(), clean.db?.drop()]);
  });

  it('should have every acknowledged delivery in the inbox when the process is killed at a random moment', async () => {
    const { service, url } = await startService(crashed);
    // A random moment: once between 15 % and 60 % of the deliveries were acknowledged, with a
    // listener certainly in the middle of its work. For that, the test holds a lock on the
    // connections table from that moment: the next connection.created listener blocks on it, so
    // its round of events is claimed (status processing) and cannot finish; the kill comes as soon
    // as PostgreSQL shows that listener waiting, and the lock is released only once the process is
    // gone. Without it, whether the kill caught work in flight would depend on how far behind the
    // dispatcher happened to be.
    const killAfter = Math.floor(N * (0.15 + Math.random() * 0.45));
    let killed = false;
    const started = Date.now();
    const killer = (async () => {
      const holder = new Client({ connectionString: crashed.db.url });
      try {
        await waitFor(async () => acknowledged.size >= killAfter, 60_000, `${killAfter} acknowledgements`);
        await holder.connect();
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE connections IN EXCLUSIVE MODE');
        const lockedAt = Date.now();
        await waitFor(
          async () =>
            (
              await holder.query(
                `SELECT 1 FROM pg_locks
                  WHERE NOT granted AND relation = 'connections'::regclass
                    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
              )
            ).rows.length > 0,
          30_000,
          'a listener waiting for the connections table',
        );
        measured.listenerBlockedAfterMs = Date.now() - lockedAt;
        killed = true;
        measured.killedAfterMs = Date.now() - started;
        service.child.kill('SIGKILL');
      } finally {
        // Whatever happened above, the process is gone before the lock is released.
        if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
        await service.exited;
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end().catch(() => undefined);
      }
    })();
    killer.catch(() => undefined); // awaited below, once the load is done
    await pool(deliveries, CONCURRENCY, async (d) => {
      const answer = await postDelivery(url, d);
      firstAnswers.set(d.idEvent, answer.status);
      if (answer.status === 200) acknowledged.add(d.idEvent);
    });
    await killer;
    await service.exited;
    crashed.logs.push(service.output());
    expect(killed).toBe(true);
    expect(service.child.signalCode).toBe('SIGKILL');
    measured.killAfterAcknowledged = killAfter;
    measured.acknowledgedBeforeKill = acknowledged.size;
    expect(acknowledged.size).toBeGreaterThanOrEqual(killAfter);
    expect(acknowledged.size).toBeLessThan(N);
    // Only 200 or no answer at all: nothing in between.
    expect([...new Set(firstAnswers.values())].filter((s) => s !== 200 && s !== 0)).toEqual([]);

    const stored = await crashed.db.query<{ id_event: string; status: string }>(
      'SELECT id_event, status FROM webhook_events',
    );
    const storedIds = new Set(stored.map((r) => r.id_event));
    expect([...acknowledged].filter((id) => !storedIds.has(id))).toEqual([]);
    // Nobody touched the inbox since the kill: 'processing' is exactly what the process had claimed.
    inFlightAtKill = new Set(stored.filter((r) => r.status === 'processing').map((r) => r.id_event));
    // At least the round of the blocked listener: the re-run path below is exercised.
    expect(inFlightAtKill.size).toBeGreaterThan(0);
    measured.storedAtKill = storedIds.size;
    measured.storedButUnacknowledged = storedIds.size - acknowledged.size;
    measured.byStatusAtKill = stored.reduce<Record<string, number>>(
      (acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }),
      {},
    );
  });

  it('should take every unanswered delivery again after the restart, and store each once', async () => {
    const { service, url } = await startService(crashed);
    try {
      const unanswered = deliveries.filter((d) => !acknowledged.has(d.idEvent));
      measured.resent = unanswered.length;
      const answers = new Map<string, { status: number; text: string }>();
      await pool(unanswered, CONCURRENCY, async (d) => {
        answers.set(d.idEvent, await sendWithRetries(url, d));
      });
      expect([...answers.values()].filter((a) => a.status !== 200)).toEqual([]);
      // Stored before the kill but never answered: the resend is recognised as a duplicate.
      const duplicates = [...answers.values()].filter((a) => JSON.parse(a.text).duplicate === true).length;
      measured.resentAnsweredDuplicate = duplicates;
      expect(duplicates).toBe(Number(measured.storedButUnacknowledged));

      await allProcessed(crashed.db, N);
      const perEvent = await crashed.db.query<{ id_event: string; n: number }>(
        'SELECT id_event, count(*)::int AS n FROM webhook_events GROUP BY id_event HAVING count(*) > 1',
      );
      expect(perEvent).toEqual([]);
      const ids = new Set(
        (await crashed.db.query<{ id_event: string }>('SELECT id_event FROM webhook_events')).map((r) => r.id_event),
      );
      expect(deliveries.filter((d) => !ids.has(d.idEvent))).toEqual([]);
    } finally {
      await stopService(crashed, service);
    }
  });

  it('should reach the same connections and CRM state as a clean run of the same deliveries', async () => {
    const { service, url } = await startService(clean);
    try {
      const answers: number[] = [];
      await pool(deliveries, CONCURRENCY, async (d) => {
        answers.push((await postDelivery(url, d)).status);
      });
      expect(answers.filter((s) => s !== 200)).toEqual([]);
      await allProcessed(clean.db, N);
    } finally {
      await stopService(clean, service);
    }

    const [crashedConnections, cleanConnections] = await Promise.all([
      connectionsState(crashed.db),
      connectionsState(clean.db),
    ]);
    expect(cleanConnections).toHaveLength(deliveries.filter((d) => d.type === 'connection.created').length);
    expect(crashedConnections).toEqual(cleanConnections);

    const [crashedCrm, cleanCrm] = await Promise.all([crmState(crashed.db), crmState(clean.db)]);
    expect(cleanCrm.length).toBeGreaterThan(N / 2);
    expect(crashedCrm).toEqual(cleanCrm);
  });

  it('should run each listener once per event (again only for events in flight at the kill), all succeeded', async () => {
    const listenerRows = (db: TestDatabase) =>
      db.query<{ id_event: string; type: string; attempts: number; listeners: string[]; runs: number[]; ok: boolean }>(
        `SELECT e.id_event, e.type, e.attempts,
                array_agg(l.listener ORDER BY l.listener) AS listeners,
                array_agg(l.attempts ORDER BY l.listener) AS runs,
                bool_and(l.status = 'succeeded') AS ok
           FROM webhook_events e JOIN ${LISTENER_OUTCOMES} l ON l.event_id = e.id
          GROUP BY e.id`,
      );
    const [crashedRows, cleanRows] = await Promise.all([listenerRows(crashed.db), listenerRows(clean.db)]);
    // Which listeners each type has: whatever the clean run recorded.
    const expected = new Map(cleanRows.map((r) => [r.type, r.listeners.join(',')]));
    expect(new Set(expected.keys())).toEqual(
      new Set(['connection.created', 'crm.contact.created', 'crm.company.push']),
    );
    expect(crashedRows).toHaveLength(N);

    const wrong = crashedRows.filter(
      (r) => r.listeners.join(',') !== expected.get(r.type) || !r.ok || r.runs.some((n) => n !== 1) || r.attempts !== 1,
    );
    // An event claimed by the killed process is claimed again: attempts 2, each listener recorded once.
    expect(wrong.filter((r) => !inFlightAtKill.has(r.id_event))).toEqual([]);
    expect(wrong.filter((r) => r.attempts > 2 || r.listeners.join(',') !== expected.get(r.type) || !r.ok)).toEqual([]);
    measured.inFlightAtKill = inFlightAtKill.size;
    measured.claimedTwice = crashedRows.filter((r) => r.attempts === 2).length;
  });

  it('should put the same events on the outbox as a clean run: one per connection, object version and Panora event', async () => {
    const [crashedOutbox, cleanOutbox] = await Promise.all([outboxByKey(crashed), outboxByKey(clean)]);
    expect(new Set(crashedOutbox.keys())).toEqual(new Set(cleanOutbox.keys()));
    // Contacts delivered in two versions (see mixedDeliveries).
    const contactKeys = deliveries
      .filter((d) => d.type === 'crm.contact.created')
      .map((d) => `crm.contact:${(JSON.parse(JSON.parse(d.body).data) as { id: string }).id}`);
    const twoVersions = new Set(contactKeys.filter((key, i) => contactKeys.indexOf(key) !== i));
    expect(twoVersions.size).toBeGreaterThan(10);
    const problems: string[] = [];
    const repeatedForwards: string[] = [];
    for (const [key, cleanMessages] of cleanOutbox) {
      const messages = crashedOutbox.get(key)!;
      if (key.startsWith('panora-event:')) {
        // Panora's own event, forwarded once. After a crash a forward that committed but was not
        // recorded runs again; its message id is derived from the event, so the repeat writes nothing.
        expect(cleanMessages).toHaveLength(1);
        if (messages.length > 1) repeatedForwards.push(key);
        if (messages.length !== 1) problems.push(`${key}: forwarded ${messages.length} times`);
        else if (JSON.stringify(messages[0]) !== JSON.stringify(cleanMessages[0])) problems.push(`${key}: differs`);
      } else if (cleanMessages.length === 1 && !twoVersions.has(key)) {
        // A connection or a CRM object seen in one version: exactly one event, in both runs.
        if (messages.length !== 1) problems.push(`${key}: ${messages.length} events`);
        else if (JSON.stringify(messages[0]) !== JSON.stringify(cleanMessages[0])) problems.push(`${key}: differs`);
      } else {
        // Two versions of a contact: one or two events depending on arrival order; the last one
        // carries the newest version in both runs.
        if (messages.length < 1 || messages.length > 2) problems.push(`${key}: ${messages.length} events`);
        if (JSON.stringify(messages.at(-1)) !== JSON.stringify(cleanMessages.at(-1))) {
          problems.push(`${key}: last event differs`);
        }
      }
    }
    expect(problems).toEqual([]);
    const types = new Set([...cleanOutbox.values()].flat().map((m) => m.type));
    expect(types).toEqual(
      new Set([
        'connections.connection.created',
        'crm.contact.upserted',
        'crm.company.upserted',
        'connection.created',
        'crm.contact.created',
        'crm.company.created',
      ]),
    );
    measured.repeatedForwards = repeatedForwards.length;
  });

  it('should not write an endpoint secret, connection token or signature to the logs of any run', () => {
    expect(crashed.logs.length).toBe(2);
    expect(clean.logs.length).toBe(1);
    expect(ledger.count('connection token')).toBeGreaterThan(N / 4);
    const leaks = [
      ...crashed.logs.flatMap((text, i) => ledger.find(text, i === 0 ? 'killed process' : 'restarted process')),
      ...ledger.find(clean.logs[0], 'clean run'),
    ];
    expect(leaks).toEqual([]);
    // The logs are not empty: the scan looked at something.
    expect(crashed.logs.join('').length).toBeGreaterThan(1_000);
  });
});
