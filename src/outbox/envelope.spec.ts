import { assertEntityKey, assertEventType, buildEnvelope } from './envelope';

describe('buildEnvelope', () => {
  it('should make a CloudEvents 1.0 event of the row: id, source, type, time, partitionkey and data', () => {
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
      specversion: '1.0',
      id: '3f2c8d3e-8a5e-4b7e-9a57-2f1e0c1d2b3a',
      source: 'panora-webhooks',
      type: 'crm.contact.upserted',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      partitionkey: 'contact:42',
      data: { id: '42', name: 'Ada' },
    });
    // CloudEvents attribute names: lowercase letters and digits only.
    for (const name of Object.keys(envelope)) expect(name).toMatch(/^[a-z0-9]{1,20}$/);
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
    expect(envelope.specversion).toBe('1.0');
  });

  it('should say recovered only for an event recovery made', () => {
    const row = { id: 'x', type: 'a.b', entityKey: 'k', source: 's', payload: 1, occurredAt: new Date(0) };
    expect(buildEnvelope({ ...row, recovered: true }).recovered).toBe(true);
    expect(JSON.stringify(buildEnvelope({ ...row, recovered: false }))).not.toContain('recovered');
  });

  it("should carry the publish span's trace context as CloudEvents' tracing extension, and nothing without one", () => {
    const row = {
      id: 'x',
      type: 'a.b',
      entityKey: 'k',
      source: 's',
      payload: 1,
      occurredAt: new Date(0),
      recovered: false,
    };
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(buildEnvelope(row, { traceparent, tracestate: 'v=1' })).toMatchObject({ traceparent, tracestate: 'v=1' });
    expect(Object.keys(buildEnvelope(row, { traceparent }))).toEqual([
      'specversion',
      'id',
      'source',
      'type',
      'time',
      'datacontenttype',
      'partitionkey',
      'traceparent',
      'data',
    ]);
    expect(JSON.stringify(buildEnvelope(row, {}))).not.toContain('trace');
    expect(JSON.stringify(buildEnvelope(row))).not.toContain('trace');
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
