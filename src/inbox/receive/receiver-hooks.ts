import type { FastifyError, FastifyInstance } from 'fastify';
import { ReceiverStats, type RejectionReason } from './receiver-stats.service';

/** The receive route as Fastify knows it (WebhooksController). */
export const RECEIVE_ROUTE = '/webhooks/panora/:endpointId';

/** Fastify's own refusals, before the signature guard sees the delivery. */
function parserRejection(error: FastifyError): RejectionReason | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'size';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return 'content_type';
    default:
      return error.statusCode === 413 ? 'size' : error.statusCode === 400 ? 'body' : null;
  }
}

/**
 * Times every answer of the receive route and counts the deliveries Fastify refuses before the
 * guard runs (too large, not JSON, unparsable). One string comparison per request elsewhere.
 */
export function instrumentReceiver(fastify: FastifyInstance, stats: ReceiverStats): void {
  fastify.addHook('onError', (request, _reply, error, done) => {
    if (request.routeOptions.url === RECEIVE_ROUTE) {
      const reason = parserRejection(error);
      if (reason) stats.reject(reason);
    }
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.routeOptions.url === RECEIVE_ROUTE) stats.answered(reply.statusCode, reply.elapsedTime);
    done();
  });
}
