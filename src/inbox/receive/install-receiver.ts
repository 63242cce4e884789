import type { INestApplicationContext } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { isTracing } from '../../platform/tracing';
import { LargeDeliveryParser } from './large-delivery.parser';
import { PanoraSignatureGuard } from './panora-signature.guard';
import { installBodyParsing } from './receive-gate';
import { instrumentReceiver } from './receiver-hooks';
import { traceReceiver } from './receive-tracing';
import { ReceiverStats } from './receiver-stats.service';

/**
 * Puts the receiver in front of Fastify's routing, once per app: the signature guard's admission
 * check before a body is read, the service's own body parsers (JSON only; large deliveries off
 * the event loop), the receive route's metrics and rejection counts, and its spans while tracing is on.
 */
export function installReceiver(app: INestApplicationContext, fastify: FastifyInstance, bodyLimit: number): void {
  if (isTracing()) traceReceiver(fastify);
  installBodyParsing(fastify, {
    bodyLimit,
    guard: app.get(PanoraSignatureGuard),
    largeDeliveries: app.get(LargeDeliveryParser),
  });
  instrumentReceiver(fastify, app.get(ReceiverStats));
}
