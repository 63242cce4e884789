import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { CrmProjectionService } from '../../src/listeners/crm';
import { startTestApp, TestApp } from '../support/app';
import { createTestDatabase, TestDatabase } from '../support/database';
import { expectOutboxRowsKeepTheirContracts } from './outbox-contracts';
import { delivery, insertEndpoint, post, waitFor } from '../support/panora';

jest.setTimeout(60_000);

const ADMIN_KEY = 'crm-admin-key-0123456789';

/** A unified contact as Panora's `crm.contact.created` carries it. */
function unifiedContact(overrides: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_addresses: [{ email_address: 'ada@analytical.example', email_address_type: 'PRIMARY' }],
    phone_numbers: [{ phone_number: '+441234567890', phone_type: 'MOBILE' }],
    addresses: [],
    user_id: null,
    field_mappings: {},
    remote_id: `hs-${randomUUID().slice(0, 8)}`,
    created_at: '2026-11-01T08:00:00.000Z',
    modified_at: '2026-11-01T08:00:00.000Z',
    ...overrides,
  };
}

/** A raw `crm_contacts` row of Panora's database, as `crm.contact.pulled` carries it. */
function rawContact(overrides: Record<string, unknown> = {}) {
  return {
    id_crm_contact: randomUUID(),
    first_name: 'Grace',
    last_name: 'Hopper',
    created_at: '2026-11-01T08:00:00.000Z',
    modified_at: '2026-11-02T08:00:00.000Z',
    remote_platform: 'hubspot',
    remote_id: `hs-${randomUUID().slice(0, 8)}`,
    id_crm_user: randomUUID(),
    id_connection: randomUUID(),
    ...overrides,
  };
}

describe('CRM projections (crm.* events → crm_objects, outbox, /admin/crm)', () => {
  let db: TestDatabase;
  let service: TestApp;
  let endpoint: { id: string; secret: string };
  let url: string;

  /**
   * The same object with its keys rotated by `rotate`: equal content, another signed text. A delivery
   * repeated to the byte under a new id_event is a replay, answered `duplicate` at the door
   * (test/receive-identity); this is how Panora's re-syncs and re-sends of equal data reach the
   * projection here.
   */
  const reordered = <T extends object>(object: T, rotate = 1): T => {
    const entries = Object.entries(object);
    return Object.fromEntries([...entries.slice(rotate), ...entries.slice(0, rotate)]) as T;
  };
  /** Sends a signed delivery and waits until the dispatcher has finished with it. */
  const deliver = async (type: string, payload: unknown, idEvent = randomUUID()) => {
    const d = delivery({ secret: endpoint.secret, type, payload, idEvent });
    const res = await post(url, d);
    expect(res.status).toBe(200);
    const event = await waitFor(
      async () => {
        const [row] = await db.query<{ id: string; status: string; normalized_type: string }>(
          'SELECT id::text AS id, status, normalized_type FROM webhook_events WHERE endpoint_id = $1 AND id_event = $2',
          [endpoint.id, idEvent],
        );
        return row && ['processed', 'failed', 'dead'].includes(row.status) && row;
      },
      30_000,
      `event ${type} processed`,
    );
    return { ...event, idEvent };
  };
  const object = async (kind: string, id: string) =>
    (await db.query<any>('SELECT * FROM crm_objects WHERE kind = $1 AND panora_id = $2', [kind, id]))[0];
  const messages = async (key: string) =>
    db.query<any>('SELECT type, entity_key, payload FROM outbox_messages WHERE entity_key = $1 ORDER BY seq', [key]);
  const admin = async (path: string, key: string | null = ADMIN_KEY) => {
    const res = await fetch(`${service.baseUrl}${path}`, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      env: {
        ADMIN_API_KEYS: ADMIN_KEY,
        WEBHOOK_RETRY_BASE_MS: '20',
        WEBHOOK_RETRY_MAX_MS: '100',
        WEBHOOK_MAX_ATTEMPTS: '2',
        DISPATCH_POLL_MS: '100',
      },
    });
    endpoint = await insertEndpoint(db);
    url = `${service.baseUrl}/webhooks/panora/${endpoint.id}`;
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  describe('unified objects (.created, .push, .updated)', () => {
    it('should project a crm.contact.created and emit one crm.contact.upserted with the projection', async () => {
      const contact = unifiedContact();
      const event = await deliver('crm.contact.created', contact);
      expect(event.status).toBe('processed');

      const row = await object('contact', contact.id);
      expect(row).toMatchObject({
        remote_id: contact.remote_id,
        name: 'Ada Lovelace',
        email: 'ada@analytical.example',
        domain: null,
        shape: 'unified',
        data: contact,
        first_event_id: event.id,
        last_event_id: event.id,
        deleted_at: null,
      });
      expect(row.modified_at.toISOString()).toBe(contact.modified_at);

      const sent = await messages(`crm.contact:${contact.id}`);
      expect(sent).toHaveLength(1);
      expect(sent[0].type).toBe('crm.contact.upserted');
      expect(sent[0].payload).toMatchObject({
        kind: 'contact',
        id: contact.id,
        remoteId: contact.remote_id,
        name: 'Ada Lovelace',
        email: 'ada@analytical.example',
        modifiedAt: contact.modified_at,
        shape: 'unified',
        data: contact,
        deletedAt: null,
      });
    });

    it('should ignore an older modified_at arriving after a newer one: no change, no second event', async () => {
      const id = randomUUID();
      const newer = unifiedContact({ id, first_name: 'New', modified_at: '2026-11-10T12:00:00.000Z' });
      const older = unifiedContact({ id, first_name: 'Old', modified_at: '2026-11-10T11:59:59.999Z' });

      const first = await deliver('crm.contact.created', newer);
      const before = await object('contact', id);
      const late = await deliver('crm.contact.updated', older);
      expect(late.status).toBe('processed');

      const after = await object('contact', id);
      expect(after).toEqual(before);
      expect(after).toMatchObject({ name: 'New Lovelace', last_event_id: first.id });
      expect(after.data.first_name).toBe('New');
      const sent = await messages(`crm.contact:${id}`);
      expect(sent.map((m) => m.type)).toEqual(['crm.contact.upserted']);
      expect(sent[0].payload.data.first_name).toBe('New');
    });

    it('should apply a crm.contact.updated with a newer modified_at and emit a second event', async () => {
      const contact = unifiedContact();
      await deliver('crm.contact.created', contact);
      const updated = {
        ...contact,
        email_addresses: [{ email_address: 'countess@lovelace.example', email_address_type: 'PRIMARY' }],
        modified_at: '2026-11-03T09:30:00.000Z',
      };
      const event = await deliver('crm.contact.updated', updated);

      expect(await object('contact', contact.id)).toMatchObject({
        email: 'countess@lovelace.example',
        data: updated,
        last_event_id: event.id,
      });
      const sent = await messages(`crm.contact:${contact.id}`);
      expect(sent.map((m) => m.payload.email)).toEqual(['ada@analytical.example', 'countess@lovelace.example']);
    });

    it('should handle the same contact twice (same delivery, then a new id_event) with one outbox message', async () => {
      const contact = unifiedContact();
      const idEvent = randomUUID();
      const first = await deliver('crm.contact.created', contact, idEvent);
      const again = await post(
        url,
        delivery({ secret: endpoint.secret, type: 'crm.contact.created', payload: contact, idEvent }),
      );
      expect(again.json).toEqual({ received: true, duplicate: true });
      const replayed = await post(
        url,
        delivery({ secret: endpoint.secret, type: 'crm.contact.created', payload: contact }),
      );
      expect(replayed.json).toEqual({ received: true, duplicate: true });
      const resent = await deliver('crm.contact.created', reordered(contact));
      expect(resent.status).toBe('processed');

      expect(await messages(`crm.contact:${contact.id}`)).toHaveLength(1);
      expect((await object('contact', contact.id)).last_event_id).toBe(first.id);
    });

    it('should land crm.company.push in the company projection, with its domain', async () => {
      const company = {
        id: randomUUID(),
        name: 'Acme Corp',
        industry: 'Manufacturing',
        number_of_employees: 250,
        user_id: null,
        field_mappings: {},
        email_addresses: [{ email_address: 'hello@acme.example', email_address_type: 'WORK' }],
        phone_numbers: [],
        addresses: [],
        remote_id: 'hs-co-1',
        created_at: '2026-11-05T10:00:00.000Z',
        modified_at: '2026-11-05T10:00:00.000Z',
      };
      const event = await deliver('crm.company.push', company);
      expect(event).toMatchObject({ status: 'processed', normalized_type: 'crm.company.created' });

      expect(await object('company', company.id)).toMatchObject({
        name: 'Acme Corp',
        email: 'hello@acme.example',
        domain: 'acme.example',
        remote_id: 'hs-co-1',
        data: company,
      });
      expect(await object('contact', company.id)).toBeUndefined();
      const sent = await messages(`crm.company:${company.id}`);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        type: 'crm.company.upserted',
        payload: { kind: 'company', id: company.id, name: 'Acme Corp', domain: 'acme.example' },
      });
    });

    it('should record a failure, and store nothing, for an object without an id', async () => {
      const event = await deliver('crm.deal.push', { name: 'Deal without id', amount: '1000' });
      expect(['failed', 'dead']).toContain(event.status);
      const [listener] = await db.query<any>(
        'SELECT status, last_error FROM webhook_event_listeners WHERE event_id = $1 AND listener = $2',
        [event.id, 'crm.projection'],
      );
      expect(['failed', 'dead']).toContain(listener.status);
      expect(listener.last_error).toContain('no usable id');
      expect((await db.query<any>(`SELECT count(*)::int AS n FROM crm_objects WHERE kind = 'deal'`))[0].n).toBe(0);
    });
  });

  describe('objects recovery read back from Panora (upsertRecovered)', () => {
    const recovered = (objects: unknown[], asOf: string, connectionId = 'conn-recovered') =>
      service.app.get(CrmProjectionService).upsertRecovered('contact', objects, { connectionId, asOf });
    const position = async () =>
      (
        await db.query<{ id: string }>(
          `SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('webhook_events', 'id')), 0)::text AS id`,
        )
      )[0].id;

    it('should project them, emit upserted events marked recovered, and change nothing the second time', async () => {
      const contact = unifiedContact();
      const asOf = await position();
      expect(await recovered([contact], asOf)).toEqual({ received: 1, changed: 1 });
      const row = await object('contact', contact.id);
      expect(row).toMatchObject({ name: 'Ada Lovelace', connection_id: 'conn-recovered', last_event_id: asOf });
      const key = `crm.contact:${contact.id}`;
      const rows = await db.query<any>('SELECT type, recovered FROM outbox_messages WHERE entity_key = $1', [key]);
      expect(rows).toEqual([{ type: 'crm.contact.upserted', recovered: true }]);

      expect(await recovered([reordered(contact)], asOf)).toEqual({ received: 1, changed: 0 });
      expect(await messages(key)).toHaveLength(1);
    });

    it('should never replace a newer state: an older object, or an equal one read before the delivery that set it', async () => {
      const contact = unifiedContact({ modified_at: '2026-11-05T08:00:00.000Z' });
      const before = await position();
      const delivered = await deliver('crm.contact.created', contact);
      expect(delivered.status).toBe('processed');
      const stored = await object('contact', contact.id);

      const older = { ...contact, first_name: 'Old', modified_at: '2026-11-04T08:00:00.000Z' };
      expect(await recovered([older], await position())).toEqual({ received: 1, changed: 0 });
      const sameTimeReadEarlier = { ...contact, first_name: 'Stale' };
      expect(await recovered([sameTimeReadEarlier], before)).toEqual({ received: 1, changed: 0 });
      expect(await object('contact', contact.id)).toMatchObject({
        name: stored.name,
        last_event_id: stored.last_event_id,
      });
      expect(await messages(`crm.contact:${contact.id}`)).toHaveLength(1);
    });

    it('should refuse an object it cannot read, writing nothing', async () => {
      const good = unifiedContact();
      await expect(recovered([good, { first_name: 'no id' }], await position())).rejects.toThrow(/no usable id/);
      expect(await object('contact', good.id)).toBeUndefined();
    });
  });

  describe('events of one object applied out of order', () => {
    it('should let the event received last win at an equal modified_at: a replay of an older one changes nothing', async () => {
      const id = randomUUID();
      const older = unifiedContact({ id, first_name: 'Before', modified_at: '2026-11-12T08:00:00.000Z' });
      // The CRM changed the contact within the same second: Panora's modified_at did not move.
      const newer = { ...older, first_name: 'After' };
      const first = await deliver('crm.contact.created', older);
      const second = await deliver('crm.contact.updated', newer);
      expect(await object('contact', id)).toMatchObject({ name: 'After Lovelace', last_event_id: second.id });
      const before = await object('contact', id);

      const res = await fetch(`${service.baseUrl}/admin/events/${first.id}/replay?all=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      expect(res.status).toBe(202);
      await waitFor(
        async () =>
          (
            await db.query<{ done: boolean }>(
              `SELECT e.status = 'processed' AND EXISTS (SELECT 1 FROM webhook_event_listeners l
                        WHERE l.event_id = e.id AND l.listener = 'crm.projection' AND l.status = 'succeeded') AS done
                 FROM webhook_events e WHERE e.id = $1`,
              [first.id],
            )
          )[0].done,
        30_000,
        'the replayed event processed',
      );
      expect(await object('contact', id)).toEqual(before);
      expect((await messages(`crm.contact:${id}`)).map((m) => m.payload.name)).toEqual([
        'Before Lovelace',
        'After Lovelace',
      ]);
    });
  });

  describe('*.pulled batches of raw rows', () => {
    it('should upsert a batch of 3000 raw contact rows in one go, one event per row, and nothing on a re-sync', async () => {
      const rows = Array.from({ length: 3000 }, (_, i) => rawContact({ first_name: `Person ${i}` }));
      const ids = rows.map((r) => r.id_crm_contact);
      const count = async (sql: string) => (await db.query<{ n: number }>(sql, [ids]))[0].n;
      const countRows = () =>
        count(`SELECT count(*)::int AS n FROM crm_objects WHERE kind = 'contact' AND panora_id = ANY($1)`);
      const countMessages = () =>
        count(
          `SELECT count(*)::int AS n FROM outbox_messages
            WHERE type = 'crm.contact.upserted' AND entity_key = ANY (SELECT 'crm.contact:' || unnest($1::text[]))`,
        );

      const event = await deliver('crm.contact.pulled', rows);
      expect(event.status).toBe('processed');
      expect(await countRows()).toBe(3000);
      expect(await countMessages()).toBe(3000);
      const sample = await object('contact', ids[1234]);
      expect(sample).toMatchObject({
        name: 'Person 1234 Hopper',
        remote_id: rows[1234].remote_id,
        connection_id: rows[1234].id_connection,
        shape: 'raw',
        data: rows[1234],
        first_event_id: event.id,
      });

      // The next sync sends the same rows: nothing changes, nothing is emitted.
      await deliver(
        'crm.contact.pulled',
        rows.map((row) => reordered(row)),
      );
      expect(await countMessages()).toBe(3000);

      // A later sync where 5 rows changed emits exactly 5 events.
      const changed = rows.map((r, i) =>
        i % 600 === 0 ? { ...r, last_name: 'Changed', modified_at: '2026-11-04T08:00:00.000Z' } : r,
      );
      const third = await deliver('crm.contact.pulled', changed);
      expect(await countMessages()).toBe(3005);
      expect(await object('contact', ids[600])).toMatchObject({ name: 'Person 600 Changed', last_event_id: third.id });
      expect((await object('contact', ids[601])).last_event_id).toBe(event.id);
    });

    it('should keep unknown columns, tolerate missing ones, skip rows without an id and dedupe ids in a batch', async () => {
      const id = randomUUID();
      const odd = {
        id_crm_contact: randomUUID(),
        remote_id: 98765,
        some_future_column: { nested: ['a', 1, null] },
        amount_as_bigint: '9007199254740993',
      };
      const rows = [
        rawContact({ id_crm_contact: id, first_name: 'Older', modified_at: '2026-11-02T08:00:00.000Z' }),
        odd,
        { first_name: 'No id at all' },
        'not a row',
        rawContact({ id_crm_contact: id, first_name: 'Newer', modified_at: '2026-11-02T09:00:00.000Z' }),
      ];
      const event = await deliver('crm.contact.pulled', rows);
      expect(event.status).toBe('processed');

      expect(await object('contact', odd.id_crm_contact)).toMatchObject({
        remote_id: '98765',
        name: null,
        email: null,
        modified_at: null,
        shape: 'raw',
        data: odd,
      });
      expect((await object('contact', id)).data.first_name).toBe('Newer');
      expect(await messages(`crm.contact:${id}`)).toHaveLength(1);
      expect(await messages(`crm.contact:${odd.id_crm_contact}`)).toHaveLength(1);
    });

    it('should not let a raw row replace a unified object of the same modified_at, and keep its email when newer', async () => {
      const contact = unifiedContact({ modified_at: '2026-11-06T10:00:00.000Z' });
      await deliver('crm.contact.created', contact);
      const raw = rawContact({
        id_crm_contact: contact.id,
        first_name: 'Ada',
        last_name: 'King',
        remote_id: contact.remote_id,
        modified_at: contact.modified_at,
      });

      await deliver('crm.contact.pulled', [raw]);
      expect(await object('contact', contact.id)).toMatchObject({ shape: 'unified', name: 'Ada Lovelace' });

      const newer = { ...raw, modified_at: '2026-11-07T10:00:00.000Z' };
      await deliver('crm.contact.pulled', [newer]);
      expect(await object('contact', contact.id)).toMatchObject({
        shape: 'raw',
        name: 'Ada King',
        // Raw contact rows have no email column: the one the unified object gave is kept.
        email: 'ada@analytical.example',
        connection_id: raw.id_connection,
        data: newer,
      });
      expect((await messages(`crm.contact:${contact.id}`)).map((m) => m.payload.shape)).toEqual(['unified', 'raw']);
    });

    it('should read stages and users by their own id columns', async () => {
      const stage = { id_crm_deals_stage: randomUUID(), stage_name: 'Closed won', modified_at: '2026-11-01T00:00:00Z' };
      const user = {
        id_crm_user: randomUUID(),
        name: 'Owner One',
        email: 'owner@acme.example',
        modified_at: '2026-11-01T00:00:00Z',
      };
      await deliver('crm.stage.pulled', [stage]);
      await deliver('crm.user.pulled', [user]);
      expect(await object('stage', stage.id_crm_deals_stage)).toMatchObject({ name: 'Closed won' });
      expect(await object('user', user.id_crm_user)).toMatchObject({ name: 'Owner One', email: 'owner@acme.example' });
      expect(await messages(`crm.stage:${stage.id_crm_deals_stage}`)).toMatchObject([{ type: 'crm.stage.upserted' }]);
      expect(await messages(`crm.user:${user.id_crm_user}`)).toMatchObject([{ type: 'crm.user.upserted' }]);
    });
  });

  describe('.deleted', () => {
    it('should mark a contact deleted by a newer delete once, keep the row, emit crm.contact.deleted and not revive it with a stale event', async () => {
      const contact = unifiedContact();
      await deliver('crm.contact.created', contact);
      const deleted = { ...contact, modified_at: '2026-11-02T00:00:00.000Z' };
      const deletion = await deliver('crm.contact.deleted', deleted);
      expect(deletion.status).toBe('processed');

      const row = await object('contact', contact.id);
      expect(row.deleted_at).toBeInstanceOf(Date);
      expect(row).toMatchObject({ name: 'Ada Lovelace', data: contact, last_event_id: deletion.id });
      expect(row.modified_at.toISOString()).toBe(deleted.modified_at);

      await deliver('crm.contact.deleted', reordered(deleted));
      await deliver('crm.contact.created', reordered(contact));
      expect(await object('contact', contact.id)).toEqual(row);
      const sent = await messages(`crm.contact:${contact.id}`);
      expect(sent.map((m) => m.type)).toEqual(['crm.contact.upserted', 'crm.contact.deleted']);
      expect(sent[1].payload).toMatchObject({ id: contact.id, deletedAt: row.deleted_at.toISOString() });
    });

    it('should apply a delete whose deletion time is newer, even at the stored modified_at', async () => {
      const contact = unifiedContact();
      await deliver('crm.contact.created', contact);
      await deliver('crm.contact.deleted', { ...contact, deleted_at: '2026-11-01T09:00:00.000Z' });
      expect((await object('contact', contact.id)).deleted_at).toBeInstanceOf(Date);
      expect((await messages(`crm.contact:${contact.id}`)).map((m) => m.type)).toEqual([
        'crm.contact.upserted',
        'crm.contact.deleted',
      ]);
    });

    it('should change and publish nothing when a created contact’s signed data is replayed as crm.contact.deleted or .updated', async () => {
      const contact = unifiedContact();
      await deliver('crm.contact.created', contact);
      const before = await object('contact', contact.id);

      // Panora's signature covers data only: the same data under another type and a new id_event
      // passes the signature check. To the byte, it is a replay, refused at the door...
      for (const type of ['crm.contact.deleted', 'crm.contact.updated']) {
        const copy = await post(url, delivery({ secret: endpoint.secret, type, payload: contact }));
        expect(copy.json).toEqual({ received: true, duplicate: true });
      }
      // ...and the same content signed again (Panora would sign it the same way) is stored, but
      // changes nothing in the projection.
      const forged = await deliver('crm.contact.deleted', reordered(contact));
      expect(forged.status).toBe('processed');
      const relabelled = await deliver('crm.contact.updated', reordered(contact, 2));
      expect(relabelled.status).toBe('processed');

      expect(await object('contact', contact.id)).toEqual(before);
      expect(before.deleted_at).toBeNull();
      expect((await messages(`crm.contact:${contact.id}`)).map((m) => m.type)).toEqual(['crm.contact.upserted']);
      // Nor is the forged delete passed on to the bus as Panora's event: crm.contact.deleted is
      // only ever the projection's own, for a delete that applied.
      expect(await messages(`panora-event:${endpoint.id}:${forged.idEvent}`)).toEqual([]);
      const found = await admin(`/admin/crm/contact/${contact.id}`);
      expect(found.json).toMatchObject({ id: contact.id, deletedAt: null, name: 'Ada Lovelace' });
    });

    it('should not apply a delete that carries no time at all', async () => {
      const contact = unifiedContact();
      await deliver('crm.contact.created', contact);
      const before = await object('contact', contact.id);
      expect((await deliver('crm.contact.deleted', { id: contact.id })).status).toBe('processed');
      expect(await object('contact', contact.id)).toEqual(before);
      expect(await messages(`crm.contact:${contact.id}`)).toHaveLength(1);
    });

    it('should keep a tombstone for an object deleted before it was seen', async () => {
      const contact = unifiedContact();
      await deliver('crm.contact.deleted', { id: contact.id, modified_at: '2026-11-02T00:00:00.000Z' });
      await deliver('crm.contact.created', contact);
      expect((await object('contact', contact.id)).deleted_at).toBeInstanceOf(Date);
      expect((await messages(`crm.contact:${contact.id}`)).map((m) => m.type)).toEqual(['crm.contact.deleted']);
    });
  });

  describe('credentials inside CRM objects', () => {
    it('should redact nested tokens, keys and passwords before projecting, publishing or answering', async () => {
      const secrets = ['at-nested-0001', 'rt-nested-0002', 'key-nested-0003', 'pw-nested-0004'];
      const contact = unifiedContact({
        remote_data: {
          properties: { firstname: 'Ada' },
          integrations: [{ oauth: { access_token: secrets[0], refresh_token: secrets[1] } }],
        },
        field_mappings: { portal: { api_key: secrets[2], Password: secrets[3], label: 'kept' } },
      });
      const event = await deliver('crm.contact.created', contact);
      expect(event.status).toBe('processed');

      const row = await object('contact', contact.id);
      const sent = await messages(`crm.contact:${contact.id}`);
      const forwarded = await messages(`panora-event:${endpoint.id}:${event.idEvent}`);
      const found = await admin(`/admin/crm/contact/${contact.id}`);
      for (const text of [row, sent, forwarded, found.json].map((v) => JSON.stringify(v))) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
      // Dropped before the delivery was stored (CREDENTIAL_KEYS), the rest kept as signed.
      expect(row.data).toMatchObject({
        first_name: 'Ada',
        remote_data: { properties: { firstname: 'Ada' }, integrations: [{ oauth: {} }] },
        field_mappings: { portal: { label: 'kept' } },
      });
      expect(JSON.stringify(row.data)).not.toMatch(/access_token|refresh_token|api_key|Password/);
      expect(found.json.data).toEqual(row.data);
    });
  });

  describe('read API', () => {
    const deals = Array.from({ length: 5 }, (_, i) => ({
      id_crm_deal: randomUUID(),
      name: `Deal ${i}`,
      amount: '1000',
      modified_at: '2026-11-08T00:00:00.000Z',
    }));

    beforeAll(async () => {
      await deliver('crm.deal.pulled', deals);
    });

    it('should refuse requests without the admin key', async () => {
      expect((await admin('/admin/crm/deal', null)).status).toBe(401);
      expect((await admin(`/admin/crm/deal/${deals[0].id_crm_deal}`, 'wrong-key')).status).toBe(401);
    });

    it('should answer 400 listing the kinds for an unknown kind', async () => {
      for (const path of ['/admin/crm/ticket', '/admin/crm/ticket/some-id']) {
        const res = await admin(path);
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.json.message)).toContain(
          'contact, company, deal, engagement, note, task, stage, user',
        );
      }
    });

    it('should answer 404 for an unknown id, and the projection for a known one', async () => {
      const missing = await admin(`/admin/crm/deal/${randomUUID()}`);
      expect(missing.status).toBe(404);
      expect(missing.json.code).toBe('CRM_OBJECT_NOT_FOUND');
      // A deal's id is not a contact's.
      expect((await admin(`/admin/crm/contact/${deals[0].id_crm_deal}`)).status).toBe(404);

      const found = await admin(`/admin/crm/deal/${deals[2].id_crm_deal}`);
      expect(found.status).toBe(200);
      expect(found.json).toMatchObject({
        kind: 'deal',
        id: deals[2].id_crm_deal,
        name: 'Deal 2',
        modifiedAt: '2026-11-08T00:00:00.000Z',
        shape: 'raw',
        data: deals[2],
        deletedAt: null,
      });
    });

    /** Follows nextCursor until a page shorter than `limit`: what a poller does on each round. */
    const poll = async (kind: string, cursor?: string, limit = 2) => {
      const items: any[] = [];
      for (;;) {
        const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
        const res = await admin(`/admin/crm/${kind}?${query.toString()}`);
        expect(res.status).toBe(200);
        expect(res.json.items.length).toBeLessThanOrEqual(limit);
        expect(typeof res.json.nextCursor).toBe('string');
        items.push(...res.json.items);
        cursor = res.json.nextCursor as string;
        if (res.json.items.length < limit) return { items, cursor };
      }
    };
    /** Polls round after round from `cursor` until `done(everything seen)`. */
    const pollUntil = async (kind: string, cursor: string | undefined, done: (seen: any[]) => boolean) => {
      const seen: any[] = [];
      await waitFor(
        async () => {
          const round = await poll(kind, cursor);
          seen.push(...round.items);
          cursor = round.cursor;
          return done(seen);
        },
        15_000,
        `${kind} changes listed`,
      );
      return { seen, cursor: cursor! };
    };
    const ids = (items: any[]) => items.map((o) => o.id).sort();

    it('should page through a kind with limit and cursor, each object once, oldest change first', async () => {
      const later = { id: randomUUID(), name: 'Pushed deal', modified_at: '2026-11-09T00:00:00.000Z' };
      await deliver('crm.deal.push', later);

      const all = [...deals.map((d) => d.id_crm_deal), later.id].sort();
      const { seen, cursor } = await pollUntil('deal', undefined, (items) => items.length >= all.length);
      expect(ids(seen)).toEqual(all);
      expect(seen[seen.length - 1].id).toBe(later.id);

      // The last page has a cursor too: polling with it later gives what changed since, and only that.
      expect((await poll('deal', cursor)).items).toEqual([]);
      const changed = { ...later, name: 'Renamed deal', modified_at: '2026-11-10T00:00:00.000Z' };
      await deliver('crm.deal.push', changed);
      const next = await pollUntil('deal', cursor, (items) => items.length > 0);
      expect(next.seen).toMatchObject([{ id: later.id, name: 'Renamed deal' }]);

      const since = await waitFor(async () => {
        const res = await admin(`/admin/crm/deal?updatedSince=${encodeURIComponent(next.seen[0].updatedAt)}`);
        return res.json.items.length > 0 && res.json;
      });
      expect(since.items.map((o: any) => o.id)).toEqual([later.id]);
      expect(typeof since.nextCursor).toBe('string');
      const future = await admin('/admin/crm/deal?updatedSince=2999-01-01T00:00:00Z');
      expect(future.json.items).toEqual([]);
      expect(typeof future.json.nextCursor).toBe('string');
    });

    it('should not skip a change that a longer transaction commits after a later change was read', async () => {
      const { cursor: start } = await pollUntil('note', undefined, () => true);
      const slowId = randomUUID();
      const fast = { id: randomUUID(), title: 'Fast note', modified_at: '2026-11-12T00:00:00.000Z' };

      // A long batch: it writes its row first (its updated_at is its start time) and commits last.
      const slow = new Client({ connectionString: db.url });
      await slow.connect();
      const seen: any[] = [];
      let cursor = start;
      try {
        await slow.query('BEGIN');
        await slow.query(
          `INSERT INTO crm_objects (kind, panora_id, name, modified_at, shape, data, first_event_id, last_event_id)
           VALUES ('note', $1, 'Slow note', '2026-11-12T00:00:00Z', 'unified', $2, 0, 0)`,
          [slowId, JSON.stringify({ id: slowId, title: 'Slow note' })],
        );
        await deliver('crm.note.push', fast);
        // A client polls meanwhile.
        const meanwhile = await poll('note', cursor);
        seen.push(...meanwhile.items);
        cursor = meanwhile.cursor;
        await slow.query('COMMIT');
      } finally {
        await slow.end();
      }
      const rest = await pollUntil('note', cursor, (items) => ids([...seen, ...items]).length >= 2);
      expect(ids([...seen, ...rest.seen])).toEqual([slowId, fast.id].sort());
    });

    it('should refuse a cursor of another kind with 400 saying where it belongs', async () => {
      const { cursor } = await poll('deal');
      const res = await admin(`/admin/crm/contact?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(res.json.message).toContain('/admin/crm/deal');
    });

    it('should refuse a bad cursor, limit or updatedSince with 400', async () => {
      for (const query of ['cursor=bogus', 'limit=0', 'limit=501', 'updatedSince=yesterday', 'unknown=1']) {
        expect((await admin(`/admin/crm/deal?${query}`)).status).toBe(400);
      }
    });
  });

  // Last: every event the tests above made (created, push, updated, pulled, deleted, recovered).
  it('should have written only outbox rows that keep the contract of their routing key', async () => {
    const rows = await expectOutboxRowsKeepTheirContracts(db);
    const types = new Set(rows.map((row) => row.type));
    expect([...types]).toEqual(
      expect.arrayContaining(['crm.contact.upserted', 'crm.contact.deleted', 'crm.company.upserted']),
    );
    const shapes = new Set(
      rows.filter((row) => row.type.endsWith('.upserted')).map((row) => (row.payload as { shape: string }).shape),
    );
    expect(shapes).toEqual(new Set(['unified', 'raw'])); // `.created` / `.push` and `.pulled`
    expect(rows.some((row) => row.recovered)).toBe(true);
  });
});
