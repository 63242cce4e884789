import { ALL_EVENT_TYPES, CRM_OBJECTS } from '../panora';
import { contractOf, envelopeSchema, EVENT_CONTRACTS, FORWARDED_EVENT_TYPES, messageJsonSchema } from '.';

const keys = EVENT_CONTRACTS.map((contract) => contract.routingKey);

const message = (type: string, data?: unknown) => ({
  specversion: '1.0',
  id: '0b9f3c1e-5f7a-4d2e-9a57-2f1e0c1d2b3a',
  source: 'panora-webhooks',
  type,
  time: '2026-11-23T10:00:00.000Z',
  datacontenttype: 'application/json',
  partitionkey: 'k:1',
  ...(data === undefined ? {} : { data }),
});

describe('EVENT_CONTRACTS', () => {
  it('should list every routing key published today, once', () => {
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining([
        'connections.connection.created',
        'connections.connection.updated',
        ...CRM_OBJECTS.flatMap((kind) => [`crm.${kind}.upserted`, `crm.${kind}.deleted`]),
        'recovery.event.missed',
        ...FORWARDED_EVENT_TYPES,
      ]),
    );
    expect(keys).toHaveLength(2 + 2 * CRM_OBJECTS.length + 1 + FORWARDED_EVENT_TYPES.length);
    // Every Panora type is forwarded but the projection's own `crm.<kind>.deleted`.
    expect(FORWARDED_EVENT_TYPES).toHaveLength(ALL_EVENT_TYPES.length - CRM_OBJECTS.length);
  });

  it('should give each contract a summary and a description', () => {
    for (const contract of EVENT_CONTRACTS) {
      expect(contract.summary.length).toBeGreaterThan(20);
      expect(contract.description.length).toBeGreaterThan(20);
    }
  });

  it.each(keys)('should validate the example of %s, data and whole message', (key) => {
    const contract = contractOf(key)!;
    expect(contract.data.safeParse(contract.example).error).toBeUndefined();
    expect(envelopeSchema(contract.data).safeParse(message(key, contract.example)).error).toBeUndefined();
    expect(
      envelopeSchema(contract.data).safeParse({ ...message(key, contract.example), recovered: true }).error,
    ).toBeUndefined();
    const traced = {
      ...message(key, contract.example),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=abc',
    };
    expect(envelopeSchema(contract.data).safeParse(traced).error).toBeUndefined();
    expect(envelopeSchema(contract.data).safeParse({ ...traced, traceparent: 'not-a-traceparent' }).success).toBe(
      false,
    );
  });

  // No routing key takes `data: {}`: each has required fields.
  it.each(keys)('should refuse %s without data, with data {} or null, and with a broken envelope', (key) => {
    const schema = envelopeSchema(contractOf(key)!.data);
    expect(schema.safeParse(message(key)).success).toBe(false);
    expect(schema.safeParse(message(key, {})).success).toBe(false);
    expect(schema.safeParse(message(key, null)).success).toBe(false);
    const example = contractOf(key)!.example;
    expect(schema.safeParse({ ...message(key, example), specversion: '0.3' }).success).toBe(false);
    expect(schema.safeParse({ ...message(key, example), datacontenttype: 'text/plain' }).success).toBe(false);
    const { partitionkey: _key, ...withoutKey } = message(key, example);
    expect(schema.safeParse(withoutKey).success).toBe(false);
    expect(schema.safeParse({ ...message(key, example), id: 'not-a-uuid' }).success).toBe(false);
    expect(schema.safeParse({ ...message(key, example), recovered: false }).success).toBe(false);
  });

  it('should allow fields it does not name (Panora objects pass through), and refuse wrong types', () => {
    const crm = contractOf('crm.contact.upserted')!;
    const example = crm.example as Record<string, unknown>;
    expect(crm.data.safeParse({ ...example, extra: 1 }).success).toBe(true);
    expect(crm.data.safeParse({ ...example, kind: 'company' }).success).toBe(false);
    expect(crm.data.safeParse({ ...example, modifiedAt: 'yesterday' }).success).toBe(false);
    const deleted = contractOf('crm.contact.deleted')!;
    expect(deleted.data.safeParse({ ...example, deletedAt: null }).success).toBe(false);
    const connection = contractOf('connections.connection.created')!;
    expect(
      connection.data.safeParse({ ...(connection.example as Record<string, unknown>), hasToken: 'yes' }).success,
    ).toBe(false);
  });

  it('should know no contract for a routing key nothing publishes', () => {
    expect(contractOf('t1.contact.upserted')).toBeUndefined();
    expect(contractOf('crm.contact.created')).toBeDefined(); // forwarded from Panora
  });

  it.each(keys)('should generate the JSON Schema of the whole message of %s', (key) => {
    const schema = messageJsonSchema(contractOf(key)!) as {
      $schema: string;
      required: string[];
      properties: Record<string, { const?: unknown }>;
    };
    expect(schema.$schema).toContain('2020-12');
    expect(schema.required).toEqual(
      expect.arrayContaining([
        'specversion',
        'id',
        'source',
        'type',
        'time',
        'datacontenttype',
        'partitionkey',
        'data',
      ]),
    );
    expect(schema.required).not.toContain('recovered');
    expect(schema.properties.type.const).toBe(key);
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
