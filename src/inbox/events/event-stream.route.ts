import type { FastifyReply, FastifyRequest } from 'fastify';
import { normaliseEventType } from '../../panora';
import type { StreamEventsQuery } from './events.dto';
import { EventsErrorCode, EventsException } from './events.exception';
import { CURSOR_PATTERN, type EventStream, parseCursor } from './event-stream.service';

/** The client waits this long before reconnecting (the EventSource `retry:` field). */
const RETRY_MS = 2_000;

/**
 * Answers `GET /admin/events/stream`: validates the cursor, then takes the response over from
 * Fastify (the answer is a stream, never a body) and subscribes it to the shared poller.
 */
export function openStream(
  stream: EventStream,
  query: StreamEventsQuery,
  lastEventId: string | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const cursor = lastEventId?.trim() || query.since;
  if (cursor !== undefined && !CURSOR_PATTERN.test(cursor)) {
    throw new EventsException(
      EventsErrorCode.BadCursor,
      'Last-Event-ID must be the id of a stream message (like 812345-1042)',
    );
  }
  if (!stream.accepting) throw new EventsException(EventsErrorCode.StreamClosed, 'The service is shutting down');

  reply.hijack();
  const raw = reply.raw;
  // A quiet stream is not an idle request: the server's connection timeout must not cut it.
  request.raw.socket.setTimeout(0);
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses by default: a stream would arrive in lumps.
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  raw.write(`retry: ${RETRY_MS}\n: stream open\n\n`);
  const unsubscribe = stream.subscribe(
    {
      write: (text) => {
        if (!raw.destroyed) raw.write(text);
        return raw.writableLength;
      },
      end: () => raw.end(),
    },
    {
      status: query.status,
      type: query.type ? { delivered: query.type, normalized: normaliseEventType(query.type) } : undefined,
      endpointId: query.endpointId,
    },
    cursor === undefined ? undefined : parseCursor(cursor),
  );
  raw.on('close', unsubscribe);
}
