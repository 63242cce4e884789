import { isPermanentDatabaseError } from './database-startup';

/** An error as node-postgres raises it when the server answered: a severity and the SQLSTATE. */
const serverError = (code: string) => Object.assign(new Error('x'), { code, severity: 'FATAL' });
/** An error from the client side: a Node error code, or none. */
const pgError = (code: string | undefined, message = 'x') => Object.assign(new Error(message), { code });

describe(isPermanentDatabaseError.name, () => {
  it.each([
    ['database does not exist', serverError('3D000')],
    ['password authentication failed', serverError('28P01')],
    ['role does not exist', serverError('28000')],
    ['permission denied in a migration', serverError('42501')],
    ['a syntax error in a migration', serverError('42601')],
    ['a certificate the client does not trust', pgError('SELF_SIGNED_CERT_IN_CHAIN')],
    ['a server without SSL', pgError(undefined, 'The server does not support SSL connections')],
    [
      'a password the URL lacks',
      pgError(undefined, 'SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string'),
    ],
  ])('should call %s permanent', (_what, error) => {
    expect(isPermanentDatabaseError(error)).toBe(true);
  });

  it.each([
    ['connection refused', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a host name not resolving yet', pgError('ENOTFOUND', 'getaddrinfo ENOTFOUND db')],
    ['a connection reset', pgError('ECONNRESET')],
    ['a broken pipe', pgError('EPIPE')],
    ['a connect timeout', pgError(undefined, 'timeout expired')],
    ['the server starting up', serverError('57P03')],
    ['the server shutting down', serverError('57P01')],
    ['too many connections', serverError('53300')],
    ['a connection failure', serverError('08006')],
    ['a deadlock', serverError('40P01')],
  ])('should call %s transient', (_what, error) => {
    expect(isPermanentDatabaseError(error)).toBe(false);
  });
});
