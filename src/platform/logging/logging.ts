import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import type { Env } from '../config';
import { isCredentialKey, REDACTED_VALUE, redactLogValue } from '../secrets';
import { LINE_OPTIONS, serviceOutput } from './log-output';

/**
 * Request headers that never reach a log line (the req serializer logs no headers at all; this is
 * the second lock). Credentials in logged objects are redacted by `redactLogObject`, at any depth,
 * by the one credential list (payload-secrets' CREDENTIAL_KEYS).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["panora-signature"]',
  'req.headers["x-api-key"]',
  'req.headers["x-connection-token"]',
  'req.headers["x-metrics-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Top-level keys pino turns into JSON through a serializer (below): not walked here. */
const SERIALIZED = new Set(['req', 'res', 'err']);

/**
 * A log line's object with every credential (CREDENTIAL_KEYS, at any depth, however it is spelt)
 * replaced by "[redacted]". Copies only what it changes; a line without credentials costs one
 * regular-expression test per key.
 */
export function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (SERIALIZED.has(key)) continue;
    const value = object[key];
    const next = isCredentialKey(key) ? (value === null ? null : REDACTED_VALUE) : redactLogValue(value);
    if (next === value) continue;
    copy ??= { ...object };
    Object.defineProperty(copy, key, { value: next, writable: true, enumerable: true, configurable: true });
  }
  return copy ?? object;
}

/**
 * A URL as it may be logged: the path and the query parameters' names, never their values
 * (`/admin/events?key=[redacted]&limit=[redacted]`); a part without `=`, or a name that does not
 * look like one, may be a value itself and is redacted whole.
 */
export function urlForLog(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const parts = url
    .slice(query + 1)
    .split('&')
    .map((part) => {
      const equals = part.indexOf('=');
      const name = part.slice(0, equals);
      return equals > 0 && QUERY_NAME.test(name) ? `${name}=${REDACTED_VALUE}` : REDACTED_VALUE;
    });
  return `${url.slice(0, query)}?${parts.join('&')}`;
}

const QUERY_NAME = /^[\w.\-[\]]{1,64}$/;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * nestjs-pino options: JSON lines (or pino-pretty's with LOG_PRETTY), request ids, redaction,
 * quiet on healthy hot paths.
 */
export function loggerParams(env: Pick<Env, 'LOG_LEVEL' | 'LOG_PRETTY'>): Params {
  const options: Options = {
    ...LINE_OPTIONS,
    level: env.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Fastify assigns request ids (see app.factory.ts); this covers anything it did not.
    genReqId: (req: IncomingMessage) => req.id ?? requestId(req),
    // Successful requests log at debug: a webhook receiver under load should not write a line
    // per delivery. Client errors are warnings, server errors errors.
    customLogLevel: (_req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'debug';
    },
    formatters: { ...LINE_OPTIONS.formatters, log: redactLogObject },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: urlForLog(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      // pino-http hands this the standard serialisation of the error (type, message, stack and
      // the error's own fields, which may hold a request's headers or a payload).
      err: (err: unknown) => redactLogValue(err),
    },
  };
  return {
    // Nest 12's Fastify adapter matches middleware on `{*splat}`; nestjs-pino's default route
    // (`{/*splat}`) never matched, so no request was logged.
    forRoutes: ['{*splat}'],
    // The webhook receive route is the hot path: no per-request logger there (pino-http builds a
    // child logger with redacted bindings for every request, ~10 % of the CPU under load).
    // Its failures are still logged by the exception filter, with the request id.
    exclude: [{ path: 'webhooks/panora/{*rest}', method: RequestMethod.POST }],
    // The boot logger's output (pino-pretty's with LOG_PRETTY, in this thread rather than a
    // transport's worker: its absence is found at start, and lines keep their order).
    pinoHttp: [options, serviceOutput(env)],
  };
}
