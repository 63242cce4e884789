import type { EventContract } from './event-contract';
import { EVENT_CONTRACTS, messageJsonSchema } from './event-contracts';
import { CLOUDEVENTS_SPEC_VERSION } from './envelope.schema';

/** Where `GET /docs/asyncapi.json` is served (public, like `/docs`). */
export const ASYNCAPI_JSON_PATH = 'docs/asyncapi.json';

const AMQP_BINDING_VERSION = '0.3.0';

/** The version of the bus contract: 2 since the envelope became a CloudEvents 1.0 event. */
const CONTRACT_VERSION = '2';

/** The AMQP `content_type`: CloudEvents' AMQP binding, structured mode. */
const CONTENT_TYPE = 'application/cloudevents+json';

export interface AsyncApiOptions {
  /** `RABBITMQ_EXCHANGE`: the durable topic exchange every event is published on. */
  exchange: string;
  /** The contracts to describe; every routing key published today by default. */
  contracts?: readonly EventContract[];
}

/** An AsyncAPI id (channel, message, operation): letters, digits, `_` and `-` only. */
export function asyncApiId(routingKey: string): string {
  return routingKey.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The entity key of an example, as the module that publishes it writes it. */
function exampleKey(data: Record<string, unknown>): string {
  if (typeof data.idConnection === 'string') return `connection:${data.idConnection}`;
  if (typeof data.kind === 'string' && typeof data.id === 'string') return `crm.${data.kind}:${data.id}`;
  if (typeof data.endpointId === 'string') return `panora-event:${data.endpointId}:${String(data.idEvent)}`;
  if (typeof data.id_connection === 'string') return `connection:${data.id_connection}`;
  return `panora-event:${String(data.id_event)}`;
}

/** The whole message of `contract`'s example, as a consumer receives it. */
export function exampleMessage(contract: EventContract): Record<string, unknown> {
  const data = contract.example as Record<string, unknown>;
  const recovered = contract.routingKey.startsWith('recovery.');
  return {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: '0b9f3c1e-5f7a-4d2e-9a57-2f1e0c1d2b3a',
    source: 'panora-webhooks',
    type: contract.routingKey,
    time: typeof data.timestamp === 'string' ? data.timestamp : '2026-11-23T10:00:01.000Z',
    datacontenttype: 'application/json',
    partitionkey: exampleKey(data),
    ...(recovered ? { recovered: true } : {}),
    data,
  };
}

/**
 * The AsyncAPI 3.0.0 document of the bus, generated from the contracts (never written by hand):
 * one channel per routing key (its `address`) on the topic exchange, the JSON Schema of the whole
 * message as its payload with an example, and one `send` operation per channel (the service
 * publishes; siblings receive).
 */
export function asyncApiDocument({ exchange, contracts = EVENT_CONTRACTS }: AsyncApiOptions): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const contract of contracts) {
    const id = asyncApiId(contract.routingKey);
    if (id in channels) throw new Error(`asyncApiDocument: two routing keys map to the channel id ${id}`);
    messages[id] = {
      name: contract.routingKey,
      title: contract.routingKey,
      summary: contract.summary,
      description: contract.description,
      contentType: CONTENT_TYPE,
      payload: messageJsonSchema(contract),
      bindings: {
        amqp: { contentEncoding: 'utf-8', messageType: contract.routingKey, bindingVersion: AMQP_BINDING_VERSION },
      },
      examples: [{ name: 'example', summary: `A ${contract.routingKey} message`, payload: exampleMessage(contract) }],
    };
    channels[id] = {
      address: contract.routingKey,
      title: contract.routingKey,
      summary: contract.summary,
      description: `Routing key \`${contract.routingKey}\` on the topic exchange \`${exchange}\`.`,
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
      bindings: {
        amqp: {
          is: 'routingKey',
          exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
          bindingVersion: AMQP_BINDING_VERSION,
        },
      },
    };
    operations[`send_${id}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      summary: contract.summary,
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
      bindings: {
        // Persistent (delivery mode 2), with message_id = the envelope's id: dedupe on it.
        amqp: { deliveryMode: 2, mandatory: false, bindingVersion: AMQP_BINDING_VERSION },
      },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'panora-webhooks events',
      version: CONTRACT_VERSION,
      description:
        `The domain events panora-webhooks publishes on the durable topic exchange \`${exchange}\`: one channel per ` +
        `routing key, each message a CloudEvents ${CLOUDEVENTS_SPEC_VERSION} event in structured JSON mode ` +
        `(content type \`${CONTENT_TYPE}\`) whose \`type\` is its routing key. Messages are persistent ` +
        '(delivery mode 2) and carry `message_id` = the event `id`; delivery is at least once, in commit order ' +
        'per entity key (the `partitionkey` extension): deduplicate on `id`. Generated from src/contracts at start.',
    },
    defaultContentType: CONTENT_TYPE,
    channels,
    operations,
    components: { messages },
  };
}
