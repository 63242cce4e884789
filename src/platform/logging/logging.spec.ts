import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type Options } from 'pino-http';
import { loggerParams, urlForLog } from './logging';

/** The service's root logger (as nestjs-pino builds it from loggerParams), writing to an array. */
function capture() {
  const lines: string[] = [];
  const [options] = loggerParams({ LOG_LEVEL: 'debug', LOG_PRETTY: false }).pinoHttp as [Options, unknown];
  const http = pinoHttp(options, { write: (line: string) => void lines.push(line) });
  return { http, logger: http.logger, text: () => lines.join('') };
}

describe('logging', () => {
  it('should redact credentials at any depth and in any spelling of a logged object, keeping the rest', () => {
    const { logger, text } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop', password: 'cyclic-password' };
    cyclic.self = cyclic;
    logger.warn(
      {
        connectionToken: 'top-token',
        event: {
          type: 'connection.created',
          payload: {
            remote_data: {
              integrations: [{ auth: { accessToken: 'deep-access', client_secret: 'deep-secret', expires_in: 3600 } }],
              Authorization: 'Bearer deep-bearer',
            },
          },
        },
        rows: [{ aws_secret_access_key: 'aws-1', privateKey: 'pk-1', 'x-api-key': 'ak-1' }],
        cyclic,
      },
      'a listener failed',
    );
    const line = text();
    for (const secret of [
      'top-token',
      'deep-access',
      'deep-secret',
      'deep-bearer',
      'aws-1',
      'pk-1',
      'ak-1',
      'cyclic-password',
    ]) {
      expect({ secret, leaked: line.includes(secret) }).toEqual({ secret, leaked: false });
    }
    expect(JSON.parse(line)).toMatchObject({
      msg: 'a listener failed',
      connectionToken: '[redacted]',
      event: {
        payload: { remote_data: { integrations: [{ auth: { accessToken: '[redacted]', expires_in: 3600 } }] } },
      },
      cyclic: { name: 'loop', password: '[redacted]', self: '[Circular]' },
    });
  });

  it("should redact credentials carried by a logged error's own fields", () => {
    const { logger, text } = capture();
    const error = Object.assign(new Error('Panora answered 401'), {
      config: { headers: { Authorization: 'Bearer error-bearer', 'x-api-key': 'error-key' } },
    });
    logger.error({ err: error }, 'request failed');
    const line = JSON.parse(text()) as { err: { message: string; config: unknown } };
    expect(line.err.message).toBe('Panora answered 401');
    expect(line.err.config).toEqual({ headers: { Authorization: '[redacted]', 'x-api-key': '[redacted]' } });
  });

  it('should log a request URL with its path and query parameter names, never their values', async () => {
    const { http, text } = capture();
    const req = {
      id: 'r-1',
      method: 'GET',
      url: '/admin/events?key=admin-key-in-query&status=dead',
      headers: {},
      socket: {},
    } as unknown as IncomingMessage;
    const listeners: Record<string, () => void> = {};
    const res = {
      statusCode: 401,
      headersSent: true,
      writableEnded: true,
      getHeaders: () => ({}),
      on: (event: string, listener: () => void) => (listeners[event] = listener),
      removeListener: () => undefined,
    } as unknown as ServerResponse;
    http(req, res);
    listeners.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(text())).toMatchObject({
      msg: 'request completed',
      req: { url: '/admin/events?key=[redacted]&status=[redacted]' },
      res: { statusCode: 401 },
    });
    expect(text()).not.toContain('admin-key-in-query');
  });

  it.each([
    ['/admin/events', '/admin/events'],
    ['/admin/events?', '/admin/events?[redacted]'],
    ['/x?key=k&key=k2&flag', '/x?key=[redacted]&key=[redacted]&[redacted]'],
    ['/x?a%20b=1&=v&sk_live_abc', '/x?[redacted]&[redacted]&[redacted]'],
  ])('should log %s as %s', (url, logged) => {
    expect(urlForLog(url)).toBe(logged);
  });
});
