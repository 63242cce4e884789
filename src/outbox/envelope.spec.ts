import { assertEntityKey, assertEventType, buildEnvelope, ENVELOPE_VERSION } from './envelope';

describe('buildEnvelope', () => {
  it('should carry the row id, type, key, source, time and data in a versioned envelope', () => {
    const envelope = buildEnvelope({
      id: '3f2c8d3e-8a5e-4b7e-9a57-2f1e0c1d2b3a',
      type: 'crm.contact.upserted',
      entityKey: 'contact:42',
      source: 'panora-webhooks',
      payload: { id: '42', name: 'Ada' },
      occurredAt: new Date('2026-11-23T10:00:00.000Z'),
      recovered: false,
    });
    expect(envelope).toEqual({
      version: ENVELOPE_VERSION,
      id: '3f2c8d3e-8a5e-4b7e-9a57-2f1e0c1d2b3a',
      type: 'crm.contact.upserted',
      source: 'panora-webhooks',
      key: 'contact:42',
      occurredAt: '2026-11-23T10:00:00.000Z',
      data: { id: '42', name: 'Ada' },
    });
    expect(JSON.parse(JSON.stringify(envelope))).toEqual(envelope);
  });

  it('should keep a null payload as null data', () => {
    const envelope = buildEnvelope({
      id: 'x',
      type: 'a.b',
      entityKey: 'k',
      source: 's',
      payload: null,
      occurredAt: new Date(0),
      recovered: false,
    });
    expect(envelope.data).toBeNull();
    expect(envelope.version).toBe(1);
  });

  it('should say recovered only for an event recovery made', () => {
    const row = { id: 'x', type: 'a.b', entityKey: 'k', source: 's', payload: 1, occurredAt: new Date(0) };
    expect(buildEnvelope({ ...row, recovered: true }).recovered).toBe(true);
    expect(JSON.stringify(buildEnvelope({ ...row, recovered: false }))).not.toContain('recovered');
  });
});

describe('assertEventType', () => {
  it.each([
    'connections.connection.created',
    'crm.contact.upserted',
    'crm.company.created',
    'ticketing.ticket.pulled',
    'a',
    'x-y.z_1',
  ])('should accept %s', (type) => expect(() => assertEventType(type)).not.toThrow());

  it.each(['', 'crm.*', 'crm.#', 'crm..contact', '.crm', 'crm.', 'crm contact', 'a'.repeat(256)])(
    'should refuse %j',
    (type) => expect(() => assertEventType(type)).toThrow(/Invalid event type/),
  );
});

describe('assertEntityKey', () => {
  it('should accept a non-empty key', () => expect(() => assertEntityKey('connection:1')).not.toThrow());

  it.each(['', '   ', 'k'.repeat(501)])('should refuse %j', (key) =>
    expect(() => assertEntityKey(key)).toThrow(/Invalid entity key/),
  );
});
