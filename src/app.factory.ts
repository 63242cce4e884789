import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestApplicationContext } from '@nestjs/common';
import { Logger, PinoLogger } from 'nestjs-pino';
import { loggerParams, requestId } from './platform/logging';
import { setupOpenApi } from './platform/http';
import { installReceiver } from './inbox';
import { AppModule, AppModuleOptions } from './app.module';
import { serveAsyncApi } from './asyncapi.route';
import type { Env } from './platform/config';

/** The Fastify adapter with the service's limits. */
export function createAdapter(env: Env): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: env.WEBHOOK_BODY_LIMIT,
    // Bounds slow-loris style uploads: a body still trickling in after this is cut off.
    requestTimeout: env.REQUEST_TIMEOUT_MS,
    connectionTimeout: env.REQUEST_TIMEOUT_MS,
    // Fastify sets requestTimeout on the server after creating it, with headersTimeout left at 60 s
    // and Node checking every 30 s: in Node 24 a trickled body was then never cut off (still open
    // after 40 s with REQUEST_TIMEOUT_MS=1000). Given at creation, checked every second, a request
    // still arriving REQUEST_TIMEOUT_MS after it began gets a 408 (test/faults, slow-loris).
    http: {
      requestTimeout: env.REQUEST_TIMEOUT_MS,
      headersTimeout: Math.min(60_000, env.REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: Math.min(1_000, env.REQUEST_TIMEOUT_MS),
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A caller's x-request-id is kept when it is sane, else a UUID; logs and responses carry it.
    genReqId: (req: IncomingMessage) => requestId(req),
    logger: false,
    // What Fastify refuses before routing (a URL that is not valid percent-encoding): answered in
    // the service's own words, never with Fastify's default, which quotes the path.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply
        .code(400)
        .header('x-request-id', request.id)
        .send({
          statusCode: 400,
          error: 'Bad Request',
          code: 'BAD_URL',
          message:
            error.code === 'FST_ERR_BAD_URL'
              ? 'The URL is not valid percent-encoding: every % must start an escape such as %2F'
              : 'The request could not be routed',
        });
    },
  });
}

/** Settings applied to every instance of the app, in production and in tests alike. */
export function configureApp(app: NestFastifyApplication & INestApplicationContext, env: Env): NestFastifyApplication {
  app.useLogger(app.get(Logger));
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      done();
    });
  const fastify = app.getHttpAdapter().getInstance();
  installReceiver(app, fastify, env.WEBHOOK_BODY_LIMIT);
  setupOpenApi(app);
  serveAsyncApi(fastify, env.RABBITMQ_EXCHANGE);
  app.flushLogs();
  return app;
}

export async function createApp(options: AppModuleOptions): Promise<NestFastifyApplication> {
  // The service's logger from the first line on, not Nest's buffer: a failure while the modules
  // start is then reported in JSON lines, where a buffer would be flushed to Nest's coloured
  // console logger.
  const params = loggerParams(options.env);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(options), createAdapter(options.env), {
    // The body parsers are the service's own (installBodyParsing), not Nest's.
    bodyParser: false,
    logger: new Logger(new PinoLogger(params), params),
    abortOnError: false,
  });
  return configureApp(app, options.env);
}
