import { ArgumentsHost, HttpStatus, Logger } from '@nestjs/common';
import { PanoraApiError } from '../../panora';
import { DomainException } from './domain-exception';
import { AppException, HttpExceptionFilter } from './http-exception.filter';

enum ThingErrorCode {
  NotFound = 'THING_NOT_FOUND',
  Busy = 'THING_BUSY',
  Down = 'THING_DOWN',
}

class ThingException extends DomainException<ThingErrorCode> {
  protected readonly statuses = {
    [ThingErrorCode.NotFound]: HttpStatus.NOT_FOUND,
    [ThingErrorCode.Busy]: HttpStatus.CONFLICT,
    [ThingErrorCode.Down]: HttpStatus.BAD_GATEWAY,
  };
}

/** Runs the real filter on `exception` with a fake Fastify reply: what it answered. */
function answer(exception: unknown): { status?: number; body?: unknown } {
  const sent: { status?: number; body?: unknown } = {};
  const reply = {
    request: { id: 'req-1' },
    status(code: number) {
      sent.status = code;
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => reply }),
  } as unknown as ArgumentsHost;
  new HttpExceptionFilter().catch(exception, host);
  return sent;
}

const panoraError = (init: Partial<ConstructorParameters<typeof PanoraApiError>[0]>) =>
  new PanoraApiError({ failure: 'http', route: 'POST /webhooks', message: 'Panora failed', ...init });

// The filter logs what it answers with a 5xx other than 503; kept out of the test output.
let logged: jest.SpyInstance;
beforeEach(() => {
  logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('DomainException', () => {
  it('should carry its code, its message and the status its module maps the code to', () => {
    const error = new ThingException(ThingErrorCode.Busy, 'The thing is busy');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ThingException');
    expect(error.code).toBe('THING_BUSY');
    expect(error.message).toBe('The thing is busy');
    expect(error.httpStatus).toBe(409);
  });

  it('should be answered with the status of its code and the body an AppException gets', () => {
    const { status, body } = answer(new ThingException(ThingErrorCode.NotFound, 'No such thing'));
    expect(status).toBe(404);
    expect(JSON.stringify(body)).toBe(
      JSON.stringify(answer(new AppException(HttpStatus.NOT_FOUND, 'No such thing', 'THING_NOT_FOUND')).body),
    );
    expect(JSON.stringify(body)).toBe(
      '{"statusCode":404,"error":"Not Found","message":"No such thing","code":"THING_NOT_FOUND"}',
    );
  });

  it('should pass its message on at 5xx too: it is written for the admin', () => {
    expect(answer(new ThingException(ThingErrorCode.Down, 'The thing answered 500'))).toEqual({
      status: 502,
      body: { statusCode: 502, error: 'Bad Gateway', message: 'The thing answered 500', code: 'THING_DOWN' },
    });
  });

  it('should still answer any other error with a generic 500', () => {
    expect(answer(new Error('secret internals'))).toEqual({
      status: 500,
      body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' },
    });
  });
});

describe('A failed call to Panora, at the HTTP edge', () => {
  it('should answer 503 PANORA_NOT_CONFIGURED when PANORA_API_KEY is unset', () => {
    const message = 'Panora is not configured: set PANORA_API_KEY (and PANORA_BASE_URL for a self-hosted Panora)';
    expect(answer(panoraError({ failure: 'not_configured', message }))).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message, code: 'PANORA_NOT_CONFIGURED' },
    });
  });

  it.each([401, 403])('should answer 502 PANORA_ERROR with a hint when Panora answers %i', (panoraStatus) => {
    const message = `Panora answered ${panoraStatus} to POST /webhooks: Unauthorized`;
    expect(answer(panoraError({ status: panoraStatus, message }))).toEqual({
      status: 502,
      body: {
        statusCode: 502,
        error: 'Bad Gateway',
        message: `${message}; check PANORA_API_KEY`,
        code: 'PANORA_ERROR',
      },
    });
  });

  it.each([
    ['a 5xx', 'http', 500, 'Panora answered 500 to GET /webhooks: Internal server error (after 3 attempts)'],
    ['a 404', 'http', 404, 'Panora answered 404 to DELETE /webhooks/abc: Not found'],
    ['no answer in time', 'timeout', null, 'Panora did not answer POST /webhooks within 5000 ms'],
    [
      'no connection',
      'network',
      null,
      'Panora could not be reached at http://127.0.0.1:1 for GET /webhooks (ECONNREFUSED)',
    ],
    [
      'a malformed 2xx',
      'malformed',
      201,
      'Panora answered 201 to POST /webhooks with an unexpected body (url: Required)',
    ],
  ] as const)(
    'should answer 502 PANORA_ERROR with what went wrong, without a hint, for %s',
    (_, failure, status, message) => {
      expect(answer(panoraError({ failure, status, message }))).toEqual({
        status: 502,
        body: { statusCode: 502, error: 'Bad Gateway', message, code: 'PANORA_ERROR' },
      });
    },
  );

  it('should log a failure at Panora but not a missing PANORA_API_KEY', () => {
    answer(panoraError({ failure: 'not_configured' }));
    expect(logged).not.toHaveBeenCalled();
    const error = panoraError({ status: 500 });
    answer(error);
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ err: error, status: 502 }), 'request failed');
  });

  it('should know nothing of an error that only borrows the name', () => {
    const impostor = Object.assign(new Error('internals'), { name: 'PanoraApiError' });
    expect(answer(impostor).status).toBe(500);
  });
});
