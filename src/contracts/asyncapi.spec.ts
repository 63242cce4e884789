import { Parser } from '@asyncapi/parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { asyncApiDocument, asyncApiId, exampleMessage } from './asyncapi';
import { EVENT_CONTRACTS } from '.';

const document = asyncApiDocument({ exchange: 'panora.events' }) as any;
const keys = EVENT_CONTRACTS.map((contract) => contract.routingKey);

describe('asyncApiDocument', () => {
  it('should parse with the AsyncAPI parser, without errors', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errors = diagnostics.filter((d) => Number(d.severity) === 0); // DiagnosticSeverity.Error;
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(parsed).toBeDefined();
    expect(parsed!.version()).toBe('3.0.0');
    expect(parsed!.channels().all()).toHaveLength(EVENT_CONTRACTS.length);
    expect(parsed!.operations().all()).toHaveLength(EVENT_CONTRACTS.length);
    expect(
      parsed!
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).toEqual([...keys].sort());
    for (const operation of parsed!.operations().all()) expect(operation.action()).toBe('send');
  });

  it.each(keys)('should give %s a channel on the topic exchange, its payload and an example', (key) => {
    const id = asyncApiId(key);
    const channel = document.channels[id];
    expect(channel.address).toBe(key);
    expect(channel.bindings.amqp).toMatchObject({
      is: 'routingKey',
      exchange: { name: 'panora.events', type: 'topic', durable: true },
    });
    const message = document.components.messages[id];
    expect(message.contentType).toBe('application/cloudevents+json');
    expect(document.operations[`send_${id}`]).toMatchObject({
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      bindings: { amqp: { deliveryMode: 2 } },
    });
    // The payload is the whole message, and not hollow: `data` is required and has fields.
    expect(message.payload.required).toEqual(
      expect.arrayContaining(['specversion', 'id', 'source', 'type', 'time', 'partitionkey', 'data']),
    );
    expect(message.payload.properties.type.const).toBe(key);
    expect(Object.keys(message.payload.properties.data.properties ?? {}).length).toBeGreaterThan(0);
    expect(message.payload.properties.data.required?.length).toBeGreaterThan(0);

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(message.payload);
    const example = message.examples[0].payload;
    expect(example).toEqual(exampleMessage(EVENT_CONTRACTS.find((c) => c.routingKey === key)!));
    expect(validate(example) ? [] : validate.errors).toEqual([]);
    const { data: _data, ...withoutData } = example;
    expect(validate(withoutData)).toBe(false);
    expect(validate({ ...example, data: {} })).toBe(false);
  });

  it('should name the exchange it is given', () => {
    const other = asyncApiDocument({ exchange: 'other.events' }) as any;
    expect(Object.values<any>(other.channels)[0].bindings.amqp.exchange.name).toBe('other.events');
  });
});
