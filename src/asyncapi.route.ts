import type { FastifyInstance } from 'fastify';
import { ASYNCAPI_JSON_PATH, asyncApiDocument } from './contracts';

/**
 * `GET /docs/asyncapi.json`: the AsyncAPI 3.0.0 document of the bus, generated once at start from
 * src/contracts for the configured exchange. Public, like `/docs` and `/docs/openapi.json`.
 */
export function serveAsyncApi(fastify: FastifyInstance, exchange: string): void {
  const body = JSON.stringify(asyncApiDocument({ exchange }));
  fastify.get(`/${ASYNCAPI_JSON_PATH}`, (_request, reply) => {
    void reply.header('content-type', 'application/json; charset=utf-8').send(body);
  });
}
