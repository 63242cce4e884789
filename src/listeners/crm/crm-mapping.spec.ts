import {
  CrmPayloadError,
  RAW_ID_COLUMNS,
  companyDomain,
  deletionTime,
  isCrmKind,
  mapRawRow,
  mapUnifiedObject,
  primaryEmail,
  toIsoTimestamp,
} from './crm-mapping';

describe('mapUnifiedObject', () => {
  it('should map a unified contact: full name, primary email, remote id, modified_at', () => {
    const contact = {
      id: 'c-1',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email_addresses: [
        { email_address: 'ada@work.example', email_address_type: 'WORK' },
        { email_address: 'ada@home.example', email_address_type: 'PRIMARY' },
      ],
      remote_id: 12345,
      modified_at: '2026-11-20T10:00:00.000Z',
      field_mappings: {},
    };
    expect(mapUnifiedObject('contact', contact)).toEqual({
      id: 'c-1',
      remoteId: '12345',
      connectionId: null,
      name: 'Ada Lovelace',
      email: 'ada@home.example',
      domain: null,
      modifiedAt: '2026-11-20T10:00:00.000Z',
      shape: 'unified',
      data: contact,
    });
  });

  it('should take the first email when none is PRIMARY, and a contact with only a last name', () => {
    const mapped = mapUnifiedObject('contact', {
      id: 'c-2',
      last_name: 'Hopper',
      email_addresses: [{ email_address: '' }, { email_address: 'grace@navy.example', email_address_type: 'WORK' }],
    });
    expect(mapped).toMatchObject({ name: 'Hopper', email: 'grace@navy.example', modifiedAt: null, remoteId: null });
  });

  it('should map a company with its domain, from the website or else from its email', () => {
    expect(
      mapUnifiedObject('company', { id: 'co-1', name: 'Acme', website: 'https://www.Acme.example/about' }),
    ).toMatchObject({ name: 'Acme', domain: 'acme.example' });
    expect(
      mapUnifiedObject('company', {
        id: 'co-2',
        name: 'Globex',
        email_addresses: [{ email_address: 'sales@globex.example', email_address_type: 'WORK' }],
      }),
    ).toMatchObject({ name: 'Globex', email: 'sales@globex.example', domain: 'globex.example' });
  });

  it('should use the subject of tasks and engagements, and a note content clipped to 200 characters', () => {
    expect(mapUnifiedObject('task', { id: 't', subject: 'Call back' }).name).toBe('Call back');
    expect(mapUnifiedObject('engagement', { id: 'e', subject: 'Demo' }).name).toBe('Demo');
    const note = mapUnifiedObject('note', { id: 'n', content: 'x'.repeat(1000) });
    expect(note.name).toHaveLength(200);
    expect(note.data.content).toHaveLength(1000);
  });

  it('should refuse a payload that is not one object or has no id', () => {
    expect(() => mapUnifiedObject('contact', [{ id: 'c' }])).toThrow(CrmPayloadError);
    expect(() => mapUnifiedObject('contact', 'c-1')).toThrow('expected one object');
    expect(() => mapUnifiedObject('deal', { name: 'No id' })).toThrow('no usable id');
    expect(() => mapUnifiedObject('deal', { id: { nested: true } })).toThrow('no usable id');
    expect(() => mapUnifiedObject('deal', { id: 'x'.repeat(256) })).toThrow('no usable id');
  });
});

describe('mapRawRow', () => {
  it('should read each kind’s own id column, not another id_crm_* column of the row', () => {
    for (const [kind, column] of Object.entries(RAW_ID_COLUMNS)) {
      const mapped = mapRawRow(kind as keyof typeof RAW_ID_COLUMNS, {
        id_crm_user: 'owner-user',
        [column]: `${kind}-1`,
      });
      expect(mapped?.id).toBe(`${kind}-1`);
    }
  });

  it('should map a raw contact row, keep unknown columns and BigInt strings, and note its connection', () => {
    const row = {
      id_crm_contact: 'c-9',
      first_name: 'Alan',
      last_name: 'Turing',
      created_at: '2026-11-01T00:00:00.000Z',
      modified_at: '2026-11-02T00:00:00.000Z',
      remote_id: 'hs-9',
      remote_platform: 'hubspot',
      id_connection: 'conn-1',
      some_future_column: { deep: [1, 2, 3] },
      big_number: '9007199254740993',
    };
    expect(mapRawRow('contact', row)).toEqual({
      id: 'c-9',
      remoteId: 'hs-9',
      connectionId: 'conn-1',
      name: 'Alan Turing',
      email: null,
      domain: null,
      modifiedAt: '2026-11-02T00:00:00.000Z',
      shape: 'raw',
      data: row,
    });
  });

  it('should map a raw stage by stage_name and a raw user with its email', () => {
    expect(mapRawRow('stage', { id_crm_deals_stage: 's-1', stage_name: 'Won' })).toMatchObject({
      id: 's-1',
      name: 'Won',
    });
    expect(mapRawRow('user', { id_crm_user: 'u-1', name: 'Owner', email: 'owner@acme.example' })).toMatchObject({
      id: 'u-1',
      name: 'Owner',
      email: 'owner@acme.example',
    });
  });

  it('should fall back to `id`, and answer null for rows it cannot identify', () => {
    expect(mapRawRow('deal', { id: 'd-1', name: 'Big deal' })?.id).toBe('d-1');
    expect(mapRawRow('deal', { name: 'no id' })).toBeNull();
    expect(mapRawRow('deal', null)).toBeNull();
    expect(mapRawRow('deal', 'id_crm_deal')).toBeNull();
    expect(mapRawRow('deal', [{ id_crm_deal: 'd' }])).toBeNull();
  });
});

describe('toIsoTimestamp', () => {
  it('should read ISO strings, Postgres-style timestamps and epoch milliseconds', () => {
    expect(toIsoTimestamp('2026-11-20T10:00:00.123Z')).toBe('2026-11-20T10:00:00.123Z');
    expect(toIsoTimestamp('2026-11-20T12:00:00+02:00')).toBe('2026-11-20T10:00:00.000Z');
    expect(toIsoTimestamp('2026-11-20 10:00:00Z')).toBe('2026-11-20T10:00:00.000Z');
    expect(toIsoTimestamp(1795400000000)).toBe(new Date(1795400000000).toISOString());
    expect(toIsoTimestamp('1795400000000')).toBe(new Date(1795400000000).toISOString());
  });

  it('should answer null for anything else', () => {
    for (const value of [undefined, null, '', 'yesterday', {}, [], Number.NaN, true]) {
      expect(toIsoTimestamp(value)).toBeNull();
    }
  });
});

describe('primaryEmail', () => {
  it('should prefer an `email` field and ignore malformed entries', () => {
    expect(primaryEmail({ email: ' a@b.example ' })).toBe('a@b.example');
    expect(primaryEmail({ email_addresses: [null, 'x', { email_address: 'c@d.example' }] })).toBe('c@d.example');
    expect(primaryEmail({ email_addresses: 'c@d.example' })).toBeNull();
  });
});

describe('companyDomain', () => {
  it('should read HubSpot-style remote_data and skip values that are not host names', () => {
    expect(companyDomain({ remote_data: { properties: { domain: 'hubspot.example' } } }, null)).toBe('hubspot.example');
    expect(companyDomain({ domain: 'not a domain', website: 'localhost' }, null)).toBeNull();
    expect(companyDomain({}, 'someone@mail.acme.example')).toBe('mail.acme.example');
  });
});

describe('isCrmKind', () => {
  it('should know the eight kinds and nothing else', () => {
    expect(['contact', 'company', 'deal', 'engagement', 'note', 'task', 'stage', 'user'].every(isCrmKind)).toBe(true);
    expect(isCrmKind('ticket')).toBe(false);
    expect(isCrmKind('Contact')).toBe(false);
  });
});

describe('credentials in CRM objects', () => {
  it('should redact credential keys at any depth of what is projected, keeping the key columns', () => {
    const contact = {
      id: 'c-9',
      first_name: 'Ada',
      email_addresses: [{ email_address: 'ada@example.com', email_address_type: 'PRIMARY' }],
      modified_at: '2026-11-20T10:00:00.000Z',
      field_mappings: { portal: { api_key: 'k-123', password: 'p-456' } },
      remote_data: { properties: { hs_access_token: 'at-789' }, owner: { connectionToken: 'ct-000' } },
    };
    const raw = { id_crm_contact: 'c-10', connection_token: 'ct-111', nested: [[{ secret: 's-222' }]] };
    for (const mapped of [mapUnifiedObject('contact', contact), mapRawRow('contact', raw)!]) {
      const text = JSON.stringify(mapped);
      for (const value of ['k-123', 'p-456', 'at-789', 'ct-000', 'ct-111', 's-222']) expect(text).not.toContain(value);
    }
    expect(mapUnifiedObject('contact', contact)).toMatchObject({
      name: 'Ada',
      email: 'ada@example.com',
      data: {
        first_name: 'Ada',
        field_mappings: { portal: { api_key: '[redacted]', password: '[redacted]' } },
        remote_data: { properties: { hs_access_token: '[redacted]' }, owner: { connectionToken: '[redacted]' } },
      },
    });
  });
});

describe('deletionTime', () => {
  it('should take the latest of deleted_at, remote_deleted_at and modified_at', () => {
    expect(deletionTime({ id: 'x', modified_at: '2026-11-20T10:00:00Z' })).toBe('2026-11-20T10:00:00.000Z');
    expect(deletionTime({ modified_at: '2026-11-20T10:00:00Z', deleted_at: '2026-11-21T00:00:00Z' })).toBe(
      '2026-11-21T00:00:00.000Z',
    );
    expect(deletionTime({ modified_at: '2026-11-22T00:00:00Z', remote_deleted_at: '2026-11-21T00:00:00Z' })).toBe(
      '2026-11-22T00:00:00.000Z',
    );
  });

  it('should be null when the object carries no usable time', () => {
    expect(deletionTime({ id: 'x' })).toBeNull();
    expect(deletionTime({ id: 'x', modified_at: 'yesterday', deleted_at: null })).toBeNull();
  });
});
