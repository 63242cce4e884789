import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isDomainException } from './domain-exception';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  code?: string;
}

/**
 * An error the HTTP edge raises on purpose (a guard, the receive path): it carries the status and
 * the message a user may see. Services throw their module's DomainException instead.
 */
export class AppException extends HttpException {
  constructor(
    status: number,
    message: string | string[],
    readonly code?: string,
  ) {
    super({ statusCode: status, message, code }, status);
  }
}

const DATABASE_UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** True for errors that mean "the database is not there right now", not "the query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Duck-typed: errors from another realm (Node's own, under a test runner) fail instanceof.
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string')
    return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (DATABASE_UNREACHABLE.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error|timeout exceeded when trying to connect|Cannot use a pool after calling end/i.test(
    (error as Error).message,
  );
}

/**
 * The one exception filter. Errors a user can cause keep their status and message: a module's
 * DomainException (a failed call to Panora is one: PanoraApiError) answers with the status its
 * code maps to. Anything else is logged and answered with a generic message,
 * so internal details (and secrets that may sit in them) never reach a response.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const [status, body] = this.toResponse(unwrapRequestError(exception));
    if (status >= 500 && status !== 503) {
      this.logger.error({ err: exception, status, requestId: reply.request?.id }, 'request failed');
    }
    void reply.status(status).send(body);
  }

  private toResponse(exception: unknown): [number, unknown] {
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      // A body built for the client on purpose (e.g. the health check's report) goes out as is.
      if (typeof response === 'object' && response !== null && !('message' in response)) {
        return [exception.getStatus(), response];
      }
    }
    const body = this.toBody(exception);
    return [body.statusCode, body];
  }

  private toBody(exception: unknown): ErrorBody {
    if (isDomainException(exception)) {
      const status = exception.httpStatus;
      return { statusCode: status, error: reason(status), message: exception.answer, code: exception.code };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? (response as { message: string | string[] }).message
          : exception.message;
      const code = exception instanceof AppException ? exception.code : undefined;
      if (isUnknownRoute(exception, message)) {
        return { statusCode: status, error: reason(status), message: UNKNOWN_ROUTE };
      }
      return {
        statusCode: status,
        error: reason(status),
        // An AppException's message is written for the user on purpose (e.g. "Panora answered 401"),
        // whatever its status; other 5xx messages may carry internals.
        message: status >= 500 && !(exception instanceof AppException) ? reason(status) : message,
        ...(code ? { code } : {}),
      };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: reason(HttpStatus.SERVICE_UNAVAILABLE),
        message:
          'The database is unreachable, so the request may not have been completed. Try again shortly: a delivery that was stored after all answers duplicate.',
      };
    }
    // Fastify's own errors (bad JSON, body too large, unsupported media type) carry a 4xx status.
    // Their messages are not passed on: a JSON parser's message quotes part of the body (Node 24:
    // `Unexpected token 'a', ..."{"secret":abcdefgh-c"...`), which may be a secret or a token.
    const status = (exception as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { statusCode: status, error: reason(status), message: clientErrorMessage(exception, status) };
    }
    return { statusCode: 500, error: reason(500), message: 'Internal server error' };
  }
}

const UNKNOWN_ROUTE = 'No such route: the routes this service offers are listed at /docs';

/** Nest's answer to a path no route matches ("Cannot GET /the/path"), which quotes the request. */
function isUnknownRoute(exception: HttpException, message: unknown): boolean {
  return exception instanceof NotFoundException && typeof message === 'string' && /^Cannot [A-Z]+ /.test(message);
}

const SEND_AS_PANORA = 'send Content-Type: application/json with a JSON object body';

/** Fixed messages for the request errors Fastify raises itself; none repeats anything the client sent. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: `The body is not valid JSON: ${SEND_AS_PANORA}`,
  FST_ERR_CTP_EMPTY_JSON_BODY: `The body is empty: ${SEND_AS_PANORA}`,
  FST_ERR_CTP_BODY_TOO_LARGE: 'The body is too large: it is over the limit this service accepts (WEBHOOK_BODY_LIMIT)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The body does not match its Content-Length header',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: `Unsupported Content-Type: ${SEND_AS_PANORA}`,
  FST_ERR_CTP_INVALID_TYPE: `Unsupported Content-Type: ${SEND_AS_PANORA}`,
};

/**
 * Nest hands Fastify's own request errors (bad JSON, body too large...) to the filter wrapped in
 * an HttpException that carries their message as its own: the filter answers from the original.
 */
function unwrapRequestError(exception: unknown): unknown {
  if (!(exception instanceof HttpException) || exception instanceof AppException) return exception;
  const cause = exception.cause;
  const isRequestError =
    typeof cause === 'object' &&
    cause !== null &&
    !(cause instanceof HttpException) &&
    typeof (cause as { statusCode?: unknown }).statusCode === 'number';
  return isRequestError ? cause : exception;
}

function clientErrorMessage(exception: unknown, status: number): string {
  const code = (exception as { code?: unknown })?.code;
  if (typeof code === 'string' && Object.hasOwn(FASTIFY_MESSAGES, code)) return FASTIFY_MESSAGES[code];
  // A parser's own SyntaxError, should one get through: the same fixed message.
  if ((exception as { name?: unknown })?.name === 'SyntaxError') return FASTIFY_MESSAGES.FST_ERR_CTP_INVALID_JSON_BODY;
  return reason(status);
}

function reason(status: number): string {
  const names: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Entity',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return names[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}
