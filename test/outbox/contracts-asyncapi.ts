import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** What one message failed: its routing key and ajv's first errors (never the message itself). */
export interface Violation {
  routingKey: string;
  problem: string;
}

/**
 * The validators of a served AsyncAPI 3 document, one per channel `address` (= routing key), built
 * from the payload schema of the channel's message (followed through its `$ref`), as a sibling
 * service would build them from `GET /docs/asyncapi.json`.
 */
export class AsyncApiValidators {
  private readonly byKey = new Map<string, ValidateFunction>();

  constructor(document: any) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const channel of Object.values<any>(document.channels ?? {})) {
      const messages = Object.values<any>(channel.messages ?? {}).map((message) => resolve(document, message));
      if (messages.length !== 1) throw new Error(`channel ${channel.address}: ${messages.length} messages, not 1`);
      this.byKey.set(channel.address, ajv.compile(messages[0].payload));
    }
  }

  get routingKeys(): string[] {
    return [...this.byKey.keys()];
  }

  /** What is wrong with `message` under `routingKey`'s schema, or undefined when it fits. */
  check(routingKey: string, message: unknown): Violation | undefined {
    const validate = this.byKey.get(routingKey);
    if (!validate) return { routingKey, problem: 'no channel in the AsyncAPI document' };
    if (validate(message)) return undefined;
    const problem = (validate.errors ?? [])
      .slice(0, 3)
      .map((error) => `${error.instancePath || '/'} ${error.message}`)
      .join('; ');
    return { routingKey, problem };
  }
}

/** `node` with its `$ref` (a local JSON pointer, `#/a/b`) followed. */
function resolve(document: any, node: any): any {
  let current = node;
  for (let hops = 0; current && typeof current.$ref === 'string'; hops++) {
    if (hops > 10 || !current.$ref.startsWith('#/')) throw new Error(`cannot follow $ref ${current.$ref}`);
    current = current.$ref
      .slice(2)
      .split('/')
      .map((part: string) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((at: any, part: string) => at?.[part], document);
  }
  if (!current) throw new Error(`dangling $ref ${node.$ref}`);
  return current;
}
