import { createHmac, createSecretKey, randomUUID } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import fc from 'fast-check';
import type { EndpointSecretsService, VerificationKey } from '../../endpoints/endpoint-secrets.service';
import { PanoraSignatureGuard, type VerifiedRequest } from './panora-signature.guard';
import type { ReceiverStats } from './receiver-stats.service';

const ENDPOINT_ID = randomUUID();

/** The guard with an endpoint whose active secrets are `secrets`, opened the way the service opens them. */
function guardFor(secrets: string[]): PanoraSignatureGuard {
  const keys: VerificationKey[] = secrets.map((secret, i) => ({
    secretId: String(i),
    key: createSecretKey(Buffer.from(secret, 'utf8')),
    expiresAt: null,
  }));
  const endpointSecrets = { getVerificationKeys: async (id: string) => (id === ENDPOINT_ID ? keys : null) };
  const stats = { reject: () => undefined };
  return new PanoraSignatureGuard(
    endpointSecrets as unknown as EndpointSecretsService,
    stats as unknown as ReceiverStats,
  );
}

/**
 * How `data` travels: a JSON string, as Panora's code sends it (the payload serialised once), or
 * an object, as Panora's docs show it. Either way the signature is hex HMAC-SHA256(secret,
 * JSON.stringify(data)) (shared/panora-facts.md).
 */
type DataForm = 'string' | 'object';
const FORMS: [string, DataForm][] = [
  ["data as a string (Panora's code)", 'string'],
  ["data as an object (Panora's docs)", 'object'],
];

/**
 * A delivery exactly as Panora's sender builds it, going over the wire as JSON: the guard sees
 * what JSON.parse makes of it, as Fastify hands it over. `text` is the payload serialised once:
 * the string's content in the string form, the JSON of the object in the object form; `wire`
 * puts a (possibly altered) `text` back in a body the same way.
 */
function panoraDelivery(secret: string, payload: unknown, form: DataForm, type = 'crm.contact.created') {
  const text = JSON.stringify(payload);
  const data = form === 'string' ? text : payload;
  const signature = createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
  const idEvent = randomUUID();
  const wire = (t: string) =>
    form === 'string'
      ? JSON.stringify({ id_event: idEvent, data: t, type })
      : `{"id_event":${JSON.stringify(idEvent)},"data":${t},"type":${JSON.stringify(type)}}`;
  return { text, signature, wire };
}

/**
 * `text` with one character replaced, or undefined when that makes no different delivery: for
 * the object form, text that is no longer JSON (the body would not parse), or JSON that is the
 * same value (e.g. `\u001f` written `\u001F`: the signature covers the value, not the bytes).
 */
function alterData(form: DataForm, text: string, at: number, replacement: string): string | undefined {
  const i = at % text.length;
  if (text[i] === replacement) return undefined;
  const altered = text.slice(0, i) + replacement + text.slice(i + 1);
  if (form === 'string') return altered;
  try {
    return JSON.stringify(JSON.parse(altered)) === text ? undefined : altered;
  } catch {
    return undefined;
  }
}

function verify(guard: PanoraSignatureGuard, body: string, signature: string): Promise<boolean> {
  const request = {
    params: { endpointId: ENDPOINT_ID },
    headers: { 'content-type': 'application/json', 'panora-signature': signature },
    body: JSON.parse(body) as unknown,
  } as unknown as VerifiedRequest;
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return guard.canActivate(context).catch((error: { getStatus?: () => number }) => {
    if (error.getStatus?.() !== 401) throw error as Error;
    return false;
  });
}

/** Secrets as Panora makes them (UUIDs), and any other non-empty text: the guard treats them as opaque. */
const secrets = fc.oneof(fc.uuid(), fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }));
/** Any JSON value for the string form; an object (a unified record) or an array (`*.pulled` rows) for the object form. */
const payloadsFor = (form: DataForm) =>
  form === 'string'
    ? fc.jsonValue({ maxDepth: 4 })
    : fc.oneof(
        fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }),
        fc.array(fc.jsonValue({ maxDepth: 3 }), { minLength: 1, maxLength: 5 }),
      );
const HEX = '0123456789abcdef';

describe(PanoraSignatureGuard.name, () => {
  describe.each(FORMS)('%s', (_, form) => {
    const payloads = payloadsFor(form);

    it('should verify any delivery built like Panora builds it, for any payload and secret', async () => {
      await fc.assert(
        fc.asyncProperty(secrets, payloads, async (secret, payload) => {
          const { text, signature, wire } = panoraDelivery(secret, payload, form);
          expect(await verify(guardFor([secret]), wire(text), signature)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('should verify a delivery signed with any one of the secrets of an endpoint in rotation', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(secrets, { minLength: 2, maxLength: 4 }),
          fc.nat(),
          payloads,
          async (all, pick, payload) => {
            const { text, signature, wire } = panoraDelivery(all[pick % all.length], payload, form);
            expect(await verify(guardFor(all), wire(text), signature)).toBe(true);
          },
        ),
        { numRuns: 100 },
      );
    });

    it('should refuse a delivery whose data differs from the signed data in any one character', async () => {
      await fc.assert(
        fc.asyncProperty(
          secrets,
          payloads,
          fc.nat(),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
          async (secret, payload, at, replacement) => {
            const { text, signature, wire } = panoraDelivery(secret, payload, form);
            const altered = alterData(form, text, at, replacement);
            fc.pre(altered !== undefined);
            expect(await verify(guardFor([secret]), wire(altered), signature)).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('should refuse a signature that differs in any one hex digit', async () => {
      await fc.assert(
        fc.asyncProperty(secrets, payloads, fc.nat(63), fc.nat(15), async (secret, payload, at, digit) => {
          const { text, signature, wire } = panoraDelivery(secret, payload, form);
          // A different digit, not the same one in another case (hex is case-insensitive: same bytes).
          fc.pre(HEX[digit] !== signature[at]);
          const altered = signature.slice(0, at) + HEX[digit] + signature.slice(at + 1);
          expect(await verify(guardFor([secret]), wire(text), altered)).toBe(false);
        }),
        { numRuns: 300 },
      );
    });

    it("should refuse a delivery signed with another endpoint's secret", async () => {
      await fc.assert(
        // UUIDs, as Panora issues them (two texts differing only by trailing NUL bytes are the same HMAC key).
        fc.asyncProperty(
          fc.uniqueArray(fc.uuid(), { minLength: 2, maxLength: 2 }),
          payloads,
          async ([ours, theirs], payload) => {
            const { text, signature, wire } = panoraDelivery(theirs, payload, form);
            expect(await verify(guardFor([ours]), wire(text), signature)).toBe(false);
          },
        ),
        { numRuns: 100 },
      );
    });
  });

  it('should verify data sent as an object by its signature over JSON.stringify(data), and nothing else', async () => {
    // Independent of the helpers above: the body and the signed text written out by hand.
    const secret = '801f9ede-c698-4e66-a7fc-48d19eebaa4f';
    const data = { id_connection: 'c1', connection_token: 't1', id_linked_user: 'u1' };
    const signature = createHmac('sha256', secret)
      .update('{"id_connection":"c1","connection_token":"t1","id_linked_user":"u1"}')
      .digest('hex');
    const body = `{"id_event":"f4e1ff72-e727-409a-8935-a63a63d4891e","data":${JSON.stringify(data)},"type":"connection.created"}`;
    expect(await verify(guardFor([secret]), body, signature)).toBe(true);
    // The value is signed, not the bytes: the same body laid out differently still verifies.
    expect(await verify(guardFor([secret]), JSON.stringify(JSON.parse(body), null, 2), signature)).toBe(true);
    expect(await verify(guardFor([secret]), body.replace('"t1"', '"t2"'), signature)).toBe(false);
  });
});
