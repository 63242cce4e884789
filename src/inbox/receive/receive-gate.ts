import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import type { KeyObject } from 'node:crypto';
import { LargeDeliveryParser, INLINE_PARSE_BYTES } from './large-delivery.parser';
import { PanoraSignatureGuard } from './panora-signature.guard';
import { RECEIVE_ROUTE } from './receiver-hooks';

/** Every route but the receive route takes small JSON bodies (admin calls): larger ones are 413. */
export const ADMIN_BODY_LIMIT = 64 * 1024;

const isReceive = (request: FastifyRequest) => request.routeOptions.url === RECEIVE_ROUTE;

/**
 * How request bodies are read, for the whole app (Nest's own parsers are off):
 * - JSON only. No form or text parser: any other content type is a 415, and on the receive route
 *   it is refused before its body is read.
 * - The receive route is gated as soon as its headers are in: an unknown or disabled endpoint id
 *   (404) or a content type other than JSON (415) is answered without reading the body.
 * - Receive bodies over INLINE_PARSE_BYTES are parsed in a worker thread (LargeDeliveryParser),
 *   so a 5 MB body, junk or not, never blocks the event loop; others inline, as Fastify would.
 * - Every other route accepts ADMIN_BODY_LIMIT bytes; an empty JSON body is no body (so
 *   `DELETE` with `Content-Type: application/json` and nothing else works, as curl sends it).
 */
export function installBodyParsing(
  fastify: FastifyInstance,
  {
    bodyLimit,
    guard,
    largeDeliveries,
  }: { bodyLimit: number; guard: PanoraSignatureGuard; largeDeliveries: LargeDeliveryParser },
): void {
  fastify.addHook('onRoute', (route) => {
    if (route.url !== RECEIVE_ROUTE) route.bodyLimit = Math.min(bodyLimit, ADMIN_BODY_LIMIT);
  });
  const keysOf = new WeakMap<FastifyRequest, readonly KeyObject[]>();
  fastify.addHook('onRequest', async (request) => {
    if (isReceive(request))
      keysOf.set(
        request,
        (await guard.admit(request)).map((k) => k.key),
      );
  });

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    if (bytes.length > INLINE_PARSE_BYTES && isReceive(request)) {
      const signature = request.headers['panora-signature'];
      largeDeliveries
        .parse({
          bytes,
          keys: keysOf.get(request) ?? [],
          signature: typeof signature === 'string' ? signature : undefined,
        })
        .then(
          (parsed) => done(null, parsed),
          (error: Error) => done(error, undefined),
        );
      return;
    }
    try {
      // Fastify's own JSON parser, with its refusals (prototype poisoning is a 400 too).
      done(null, secureJson.parse(bytes, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });
}
