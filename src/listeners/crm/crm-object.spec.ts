import { crmEntityKey, crmOutboxMessage, type CrmObjectRow } from './crm-object';

describe('crmOutboxMessage', () => {
  const row: CrmObjectRow = {
    kind: 'company',
    panora_id: 'co-1',
    remote_id: 'r-1',
    connection_id: null,
    name: 'Acme',
    email: null,
    domain: 'acme.example',
    modified_at: new Date('2026-11-20T10:00:00.000Z'),
    shape: 'unified',
    data: { id: 'co-1', name: 'Acme' },
    first_event_id: '7',
    last_event_id: '9',
    first_seen_at: new Date('2026-11-21T00:00:00.000Z'),
    updated_at: new Date('2026-11-22T00:00:00.000Z'),
    deleted_at: null,
  };

  it('should build crm.<kind>.upserted keyed by crm.<kind>:<panora id>, carrying the projection', () => {
    expect(crmOutboxMessage('upserted', row)).toEqual({
      type: 'crm.company.upserted',
      key: 'crm.company:co-1',
      data: {
        kind: 'company',
        id: 'co-1',
        remoteId: 'r-1',
        connectionId: null,
        name: 'Acme',
        email: null,
        domain: 'acme.example',
        modifiedAt: '2026-11-20T10:00:00.000Z',
        shape: 'unified',
        data: { id: 'co-1', name: 'Acme' },
        firstEventId: '7',
        lastEventId: '9',
        firstSeenAt: '2026-11-21T00:00:00.000Z',
        updatedAt: '2026-11-22T00:00:00.000Z',
        deletedAt: null,
      },
    });
  });

  it('should build crm.<kind>.deleted with the deletion time', () => {
    const deleted = crmOutboxMessage('deleted', { ...row, deleted_at: new Date('2026-11-23T00:00:00.000Z') });
    expect(deleted.type).toBe('crm.company.deleted');
    expect(deleted.key).toBe(crmEntityKey('company', 'co-1'));
    expect(deleted.data).toMatchObject({ deletedAt: '2026-11-23T00:00:00.000Z' });
  });

  it('should redact credentials nested in a stored object before publishing it', () => {
    const stored = {
      ...row,
      data: { id: 'co-1', remote_data: { integrations: [{ oauth: { refresh_token: 'rt-secret', scope: 'crm' } }] } },
    };
    const message = crmOutboxMessage('upserted', stored);
    expect(JSON.stringify(message)).not.toContain('rt-secret');
    expect(message.data).toMatchObject({
      data: { remote_data: { integrations: [{ oauth: { refresh_token: '[redacted]', scope: 'crm' } }] } },
    });
  });
});
