import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { SecretBox, parseSecretKey } from '../../src/platform/secrets/secret-box';
import { OnPanoraEvent, PanoraWebhookEvent, PermanentEventError } from '../../src/dispatch/panora-event';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectionPayload, delivery, insertEndpoint, post, testSecretBox, waitFor } from '../support/panora';

const TYPE = 'ticketing.ticket.created';
const ADMIN_KEY = 'permanent-admin-key-0123456789';
/** Long enough that a failed event is still waiting for its retry when the test looks. */
const RETRY_BASE_MS = 120_000;
/** The built CLI, as `npx panora-webhooks` runs it (npm test builds first). */
const CLI = resolve(__dirname, '../../dist/src/cli/main.js');

/** A listener whose failure a payload chooses: `fail: 'permanent' | 'transient'`, until healed. */
@Injectable()
class SteeredListener {
  healed = false;
  readonly recorded: string[] = [];

  @OnPanoraEvent(TYPE, 'test.steered')
  async handle(event: PanoraWebhookEvent<unknown>): Promise<void> {
    if (this.healed) return;
    const { fail } = event.data as { fail?: string };
    if (fail === 'permanent') throw new PermanentEventError('the ticket has no usable id');
    if (fail === 'transient') throw new Error('the ticketing API timed out');
  }

  /** Always succeeds: a listener done on the first attempt, which a replay does not run again. */
  @OnPanoraEvent(TYPE, 'test.steered.recorder')
  async record(event: PanoraWebhookEvent<unknown>): Promise<void> {
    this.recorded.push(event.meta.inboxId);
  }
}

@Module({ providers: [SteeredListener] })
class SteeredListenerModule {}

interface ListenerView {
  listener: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

describe('Permanent listener failures', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };

  const admin = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${service.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  /** Sends a signed delivery; answers its inbox id. */
  const send = async (type: string, payload: unknown): Promise<string> => {
    const d = delivery({ secret: endpoint.secret, type, payload });
    const res = await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d);
    expect(res.status).toBe(200);
    const [row] = await db.query<{ id: string }>('SELECT id::text AS id FROM webhook_events WHERE id_event = $1', [
      d.idEvent,
    ]);
    return row.id;
  };

  /** Waits until the event's first attempt recorded an outcome (whatever it is). */
  const settled = (id: string) =>
    waitFor(
      async () => {
        const [row] = await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id = $1', [id]);
        return row && !['received', 'processing'].includes(row.status);
      },
      10_000,
      `event ${id} settled`,
    );

  const shown = async (id: string) => {
    const res = await admin(`/admin/events/${id}`);
    expect(res.status).toBe(200);
    return res.json as {
      status: string;
      attempts: number;
      lastError: string | null;
      nextAttemptAt: string | null;
      listeners: ListenerView[];
    };
  };

  const listener = (event: { listeners: ListenerView[] }, name: string) =>
    event.listeners.find((l) => l.listener === name);

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [SteeredListenerModule],
      env: {
        ADMIN_API_KEYS: ADMIN_KEY,
        WEBHOOK_MAX_ATTEMPTS: '8',
        WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS),
        WEBHOOK_RETRY_MAX_MS: String(2 * RETRY_BASE_MS),
      },
    });
    endpoint = await insertEndpoint(db, { scope: ['connection.created', 'crm.company.created', TYPE] });
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('should mark an event dead after one attempt when a listener fails permanently, and retry a transient failure later', async () => {
    const permanent = await send(TYPE, { id: 'ticket-1', fail: 'permanent' });
    const transient = await send(TYPE, { id: 'ticket-2', fail: 'transient' });
    await settled(permanent);
    await settled(transient);

    const dead = await shown(permanent);
    expect(dead).toMatchObject({ status: 'dead', attempts: 1, nextAttemptAt: null });
    expect(dead.lastError).toContain('test.steered: the ticket has no usable id (permanent: not retried');
    expect(listener(dead, 'test.steered')).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'the ticket has no usable id',
    });
    expect(listener(dead, 'test.steered.recorder')).toMatchObject({ status: 'succeeded', attempts: 1 });

    const failed = await shown(transient);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.lastError).toBe('test.steered: the ticketing API timed out');
    expect(listener(failed, 'test.steered')).toMatchObject({ status: 'failed', attempts: 1 });
    // Due after the backoff (at least half of WEBHOOK_RETRY_BASE_MS with jitter), by the database's clock.
    const [due] = await db.query<{ later: boolean }>(
      `SELECT next_attempt_at > now() + make_interval(secs => $2::double precision / 2000) AS later
         FROM webhook_events WHERE id = $1`,
      [transient, RETRY_BASE_MS],
    );
    expect(due.later).toBe(true);
    expect(new Date(failed.nextAttemptAt!).getTime()).toBeGreaterThan(Date.now());
  });

  it('should mark a connection.created without an id_connection dead at once, with the reason', async () => {
    const { id_connection: _omitted, ...payload } = connectionPayload();
    const id = await send('connection.created', payload);
    await settled(id);
    const event = await shown(id);
    expect(event).toMatchObject({ status: 'dead', attempts: 1 });
    expect(event.lastError).toContain('connections.store: connection.created without an id_connection (permanent');
    expect(listener(event, 'connections.store')).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'connection.created without an id_connection',
    });
  });

  it('should mark a CRM object the projection cannot read dead at once: no id, or a *.pulled that is not an array', async () => {
    const noId = await send('crm.company.push', { name: 'Acme, no id' });
    const notRows = await send('crm.contact.pulled', { id_crm_contact: 'one object, not an array' });
    await settled(noId);
    await settled(notRows);
    const company = await shown(noId);
    expect(company).toMatchObject({ status: 'dead', attempts: 1 });
    expect(listener(company, 'crm.projection')).toMatchObject({
      status: 'dead',
      lastError: 'crm.company payload has no usable id',
    });
    const pulled = await shown(notRows);
    expect(pulled).toMatchObject({ status: 'dead', attempts: 1 });
    expect(listener(pulled, 'crm.projection.pulled')).toMatchObject({
      status: 'dead',
      lastError: 'crm.contact.pulled payload is not an array of rows',
    });
  });

  it('should mark a stored payload that was tampered with dead at once, and retry one sealed under a key this instance lacks', async () => {
    const sealed = testSecretBox().seal(randomUUID());
    const parts = sealed.split('.');
    const last = parts[4];
    parts[4] = `${last.slice(0, -1)}${last.endsWith('A') ? 'B' : 'A'}`;
    const otherBox = new SecretBox(parseSecretKey(Buffer.alloc(32, 9).toString('base64')));
    const [tampered, unknownKey] = await db.query<{ id: string }>(
      `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload)
       VALUES ($1, gen_random_uuid()::text, 'connection.created', 'connection.created', $2::jsonb),
              ($1, gen_random_uuid()::text, 'connection.created', 'connection.created', $3::jsonb)
       RETURNING id::text AS id`,
      [
        endpoint.id,
        JSON.stringify({ id_connection: randomUUID(), connection_token: parts.join('.') }),
        JSON.stringify({ id_connection: randomUUID(), connection_token: otherBox.seal(randomUUID()) }),
      ],
    );
    await settled(tampered.id);
    await settled(unknownKey.id);

    const dead = await shown(tampered.id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 1 });
    expect(dead.lastError).toMatch(
      /^dispatcher: the stored payload cannot be opened: sealed value does not open with key \w+: corrupted or tampered with \(permanent/,
    );
    const waiting = await shown(unknownKey.id);
    expect(waiting).toMatchObject({ status: 'failed', attempts: 1 });
    expect(waiting.lastError).toContain(
      `the stored payload cannot be opened: sealed with key ${otherBox.keyId}, which is not configured`,
    );
    expect(waiting.nextAttemptAt).not.toBeNull();
  });

  describe('after replays', () => {
    let id: string;

    beforeAll(async () => {
      id = await send(TYPE, { id: 'ticket-3', fail: 'permanent' });
      await settled(id);
      service.app.get(SteeredListener).healed = true;
    });

    afterAll(() => {
      service.app.get(SteeredListener).healed = false;
    });

    /** Replays and waits for the attempt it queued to be recorded (`test.steered` runs every time). */
    const replay = async (query = '') => {
      const runs = listener(await shown(id), 'test.steered')!.attempts;
      expect((await admin(`/admin/events/${id}/replay${query}`, { method: 'POST' })).status).toBe(202);
      return waitFor(
        async () => {
          const event = await shown(id);
          return event.status === 'processed' && listener(event, 'test.steered')!.attempts > runs && event;
        },
        10_000,
        'the replay processed',
      );
    };

    it('should count attempts on across replays, the event’s and its listeners’ alike', async () => {
      const first = await replay();
      // Attempt 1 failed (dead at once), the replay's attempt 2 succeeded; the recorder, done on
      // attempt 1, did not run again.
      expect(first).toMatchObject({ status: 'processed', attempts: 2, lastError: null });
      expect(listener(first, 'test.steered')).toMatchObject({ status: 'succeeded', attempts: 2, lastError: null });
      expect(listener(first, 'test.steered.recorder')).toMatchObject({ status: 'succeeded', attempts: 1 });

      const all = await replay('?all=true');
      expect(all).toMatchObject({ status: 'processed', attempts: 3 });
      expect(listener(all, 'test.steered')).toMatchObject({ status: 'succeeded', attempts: 3 });
      expect(listener(all, 'test.steered.recorder')).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        lastError: null,
      });
      for (const l of all.listeners) expect(l.attempts).toBeLessThanOrEqual(all.attempts);
    });

    it('should show the same numbers in the CLI', async () => {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
      const api = await shown(id);
      const stdout = await new Promise<string>((done, fail) =>
        execFile(
          process.execPath,
          [CLI, 'events', 'show', id],
          {
            env: { PATH: process.env.PATH ?? '', PANORA_WEBHOOKS_URL: service.baseUrl, ADMIN_API_KEY: ADMIN_KEY },
            timeout: 30_000,
          },
          (error, out, err) => (error ? fail(new Error(`${error.message}\n${err}`)) : done(out)),
        ),
      );
      expect(stdout).toMatch(new RegExp(`^attempts:\\s+${api.attempts}$`, 'm'));
      for (const l of api.listeners) {
        expect(stdout).toMatch(
          new RegExp(`^${l.listener.replace(/\./g, '\\.')}\\s+${l.status}\\s+${l.attempts}\\b`, 'm'),
        );
      }
    });
  });
});
