import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextFrom, loadConventions, tracer } from '../../platform/tracing';
import { RECEIVE_ROUTE } from './receiver-hooks';

/**
 * The receive route's server span, continuing the caller's `traceparent` when it sends one. Only
 * installed while tracing is on (installReceiver): off, the route has no hook more.
 *
 * Registered before the receiver's other hooks, so deliveries refused on their headers (unknown
 * endpoint, wrong content type) are traced too. The handler (guard, IngestService, the inbox
 * write) runs in the span's context: Fastify calls it synchronously from the last preHandler.
 */
export function traceReceiver(fastify: FastifyInstance): void {
  const { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } = loadConventions();
  const traced = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.url === RECEIVE_ROUTE) {
      const parent = contextFrom(request.headers);
      const span = tracer().startSpan(
        `POST ${RECEIVE_ROUTE}`,
        {
          kind: SpanKind.SERVER,
          attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_HTTP_ROUTE]: RECEIVE_ROUTE },
        },
        parent,
      );
      traced.set(request, { span, ctx: trace.setSpan(parent, span) });
    }
    done();
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const entry = traced.get(request);
    if (entry) context.with(entry.ctx, () => done());
    else done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const entry = traced.get(request);
    if (entry) {
      traced.delete(request);
      entry.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      // A server span is an error only when the server failed (OpenTelemetry's HTTP conventions).
      if (reply.statusCode >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
      entry.span.end();
    }
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    const entry = traced.get(request);
    if (entry) {
      traced.delete(request);
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
      entry.span.end();
    }
    done();
  });
}
