import { createHmac, randomUUID } from 'node:crypto';
import { SecretBox, parseSecretKey } from '../../src/platform/secrets/secret-box';
import { TEST_SECRETS_KEY } from './app';
import type { TestDatabase } from './database';

/**
 * Builds a delivery exactly as Panora's sender does (and as shared/tools/panora-send.mjs does):
 * body `{id_event, data, type}` where `data` is the payload serialised to a JSON string, and
 * `Panora-Signature` = hex HMAC-SHA256(secret, JSON.stringify(data)).
 */
export function sign(secret: string, data: unknown): string {
  return createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
}

export interface DeliveryOptions {
  secret: string;
  type: string;
  payload: unknown;
  idEvent?: string;
  /** Send `data` as an object, as Panora's docs show, instead of the string its code sends. */
  asObject?: boolean;
}

export function delivery({ secret, type, payload, idEvent = randomUUID(), asObject = false }: DeliveryOptions) {
  const data = asObject ? payload : JSON.stringify(payload);
  return {
    idEvent,
    headers: { 'content-type': 'application/json', 'panora-signature': sign(secret, data) },
    body: JSON.stringify({ id_event: idEvent, data, type }),
  };
}

export async function post(url: string, d: { headers: Record<string, string>; body: string }) {
  const res = await fetch(url, { method: 'POST', headers: d.headers, body: d.body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export const testSecretBox = () => new SecretBox(parseSecretKey(TEST_SECRETS_KEY));

/** An endpoint row with one sealed secret, as registration would leave it. */
export async function insertEndpoint(
  db: TestDatabase,
  {
    secret = randomUUID(),
    active = true,
    scope = ['connection.created'],
  }: { secret?: string; active?: boolean; scope?: string[] } = {},
): Promise<{ id: string; secret: string }> {
  const [endpoint] = await db.query<{ id: string }>(
    'INSERT INTO webhook_endpoints (url, scope, active) VALUES ($1, $2, $3) RETURNING id',
    ['https://example.test/hook', scope, active],
  );
  await db.query('INSERT INTO webhook_endpoint_secrets (endpoint_id, sealed_secret, hint) VALUES ($1, $2, $3)', [
    endpoint.id,
    testSecretBox().seal(secret),
    secret.slice(-4),
  ]);
  return { id: endpoint.id, secret };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A realistic connection.created payload (a Connection row, as Panora sends it). */
export function connectionPayload(overrides: Record<string, unknown> = {}) {
  return {
    id_connection: randomUUID(),
    status: 'valid',
    provider_slug: 'hubspot',
    vertical: 'crm',
    account_url: 'https://api.hubapi.com',
    token_type: 'oauth2',
    access_token: 'enc:panora-access-blob',
    refresh_token: 'enc:panora-refresh-blob',
    expiration_timestamp: '2026-12-01T00:00:00.000Z',
    created_at: '2026-11-23T04:00:00.000Z',
    connection_token: randomUUID(),
    id_project: randomUUID(),
    id_linked_user: randomUUID(),
    ...overrides,
  };
}
