import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { Env } from '../config/env.schema';

/** Fields whose values never reach a log line. */
export const SENSITIVE_KEYS = [
  'secret',
  'secrets',
  'connection_token',
  'connectionToken',
  'access_token',
  'refresh_token',
  'signature',
  'password',
  'apiKey',
  'api_key',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["panora-signature"]',
  'req.headers["x-api-key"]',
  'req.headers["x-connection-token"]',
  'req.headers["x-metrics-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...SENSITIVE_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** nestjs-pino options: JSON lines, request ids, redaction, quiet on healthy hot paths. */
export function loggerParams(env: Pick<Env, 'LOG_LEVEL' | 'LOG_PRETTY'>): Params {
  return {
    // Nest 12's Fastify adapter matches middleware on `{*splat}`; nestjs-pino's default route
    // (`{/*splat}`) never matched, so no request was logged.
    forRoutes: ['{*splat}'],
    // The webhook receive route is the hot path: no per-request logger there (pino-http builds a
    // child logger with redacted bindings for every request, ~10 % of the CPU under load).
    // Its failures are still logged by the exception filter, with the request id.
    exclude: [{ path: 'webhooks/panora/{*rest}', method: RequestMethod.POST }],
    pinoHttp: {
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
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      transport: env.LOG_PRETTY ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
    },
  };
}
