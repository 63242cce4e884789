import { startTestApp, type TestApp } from '../support/app';
import type { TestDatabase } from '../support/database';
import type { FakePanora } from '../support/fake-panora';
import { delivery, post, waitFor } from '../support/panora';

/** Shared by the recovery specs: a service that recovers from a fake Panora, and its admin API. */
export const ADMIN_KEY = 'recovery-admin-key-0123456789';
export const READ_KEY = 'recovery-read-key-0123456789';
export const PANORA_KEY = 'panora-key';

export interface Answer {
  status: number;
  text: string;
  json: any;
}

export async function admin(service: TestApp, path: string, init: RequestInit = {}, key = ADMIN_KEY): Promise<Answer> {
  const res = await fetch(`${service.baseUrl}${path}`, {
    ...init,
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** `POST /admin/recovery/run`, expected to answer 200. */
export async function runRecovery(service: TestApp): Promise<any> {
  const res = await admin(service, '/admin/recovery/run', { method: 'POST' });
  if (res.status !== 200) throw new Error(`POST /admin/recovery/run answered ${res.status}: ${res.text}`);
  return res.json;
}

/**
 * The service, recovering from `fake`. Scheduled runs are off unless `env` sets RECOVERY_INTERVAL
 * (then the start-up run happens at once); calls to Panora are not paced down.
 */
export function startRecoveringService(
  db: TestDatabase,
  fake: FakePanora,
  env: Record<string, string> = {},
): Promise<TestApp> {
  return startTestApp({
    databaseUrl: db.url,
    env: {
      ADMIN_API_KEYS: ADMIN_KEY,
      ADMIN_READ_API_KEYS: READ_KEY,
      PANORA_BASE_URL: fake.url,
      PANORA_API_KEY: PANORA_KEY,
      RECOVERY_INTERVAL: '0',
      RECOVERY_REQUESTS_PER_MINUTE: '60000',
      WEBHOOK_RETRY_BASE_MS: '20',
      WEBHOOK_RETRY_MAX_MS: '100',
      DISPATCH_POLL_MS: '100',
      ...env,
    },
  });
}

/** A time `seconds` ago: events older than recovery's 30 s settling time. */
export const ago = (seconds: number): Date => new Date(Date.now() - seconds * 1000);

/** Delivers a signed webhook of an event Panora recorded, and waits until the inbox processed it. */
export async function deliver(
  service: TestApp,
  db: TestDatabase,
  endpoint: { id: string; secret: string },
  event: { id_event: string; type: string },
  payload: unknown,
): Promise<void> {
  const d = delivery({ secret: endpoint.secret, type: event.type, payload, idEvent: event.id_event });
  const res = await post(`${service.baseUrl}/webhooks/panora/${endpoint.id}`, d);
  if (res.status !== 200) throw new Error(`delivery of ${event.type} answered ${res.status}: ${res.text}`);
  await waitFor(
    async () =>
      (await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id_event = $1', [event.id_event]))[0]
        ?.status === 'processed',
    15_000,
    `${event.type} ${event.id_event} processed`,
  );
}

/** The CRM projections, without what differs by how and when they were written (ids of events, times, the connection raw rows only carry). */
export function projections(db: TestDatabase): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT kind, panora_id, remote_id, name, email, domain, modified_at, shape, data, deleted_at
       FROM crm_objects ORDER BY kind, panora_id`,
  );
}

export function missedEvents(db: TestDatabase): Promise<Record<string, any>[]> {
  return db.query('SELECT * FROM recovery_missed_events ORDER BY seq');
}

/** The advisory lock a recovery run holds (recovery.service.ts). */
export const RECOVERY_LOCK = 0x70777263;
