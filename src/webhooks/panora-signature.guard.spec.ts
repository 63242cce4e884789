import { createHmac, createSecretKey, randomUUID } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import fc from 'fast-check';
import type { EndpointSecretsService, VerificationKey } from '../registration/endpoint-secrets.service';
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
 * A delivery exactly as Panora's sender builds it (shared/panora-facts.md): `data` is the payload
 * serialised once, the signature is hex HMAC-SHA256(secret, JSON.stringify(data)), and the body
 * goes over the wire as JSON: the guard sees what JSON.parse makes of it, as Fastify hands it over.
 */
function panoraDelivery(secret: string, payload: unknown, type = 'crm.contact.created') {
  const data = JSON.stringify(payload);
  const signature = createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex');
  return { data, signature, wire: (d: string) => JSON.stringify({ id_event: randomUUID(), data: d, type }) };
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
const payloads = fc.jsonValue({ maxDepth: 4 });
const HEX = '0123456789abcdef';

describe(PanoraSignatureGuard.name, () => {
  it('should verify any delivery built like Panora builds it, for any payload and secret', async () => {
    await fc.assert(
      fc.asyncProperty(secrets, payloads, async (secret, payload) => {
        const { data, signature, wire } = panoraDelivery(secret, payload);
        expect(await verify(guardFor([secret]), wire(data), signature)).toBe(true);
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
          const { data, signature, wire } = panoraDelivery(all[pick % all.length], payload);
          expect(await verify(guardFor(all), wire(data), signature)).toBe(true);
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
          const { data, signature, wire } = panoraDelivery(secret, payload);
          const i = at % data.length;
          fc.pre(data[i] !== replacement);
          const altered = data.slice(0, i) + replacement + data.slice(i + 1);
          expect(await verify(guardFor([secret]), wire(altered), signature)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('should refuse a signature that differs in any one hex digit', async () => {
    await fc.assert(
      fc.asyncProperty(secrets, payloads, fc.nat(63), fc.nat(15), async (secret, payload, at, digit) => {
        const { data, signature, wire } = panoraDelivery(secret, payload);
        // A different digit, not the same one in another case (hex is case-insensitive: same bytes).
        fc.pre(HEX[digit] !== signature[at]);
        const altered = signature.slice(0, at) + HEX[digit] + signature.slice(at + 1);
        expect(await verify(guardFor([secret]), wire(data), altered)).toBe(false);
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
          const { data, signature, wire } = panoraDelivery(theirs, payload);
          expect(await verify(guardFor([ours]), wire(data), signature)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});
