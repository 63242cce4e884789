// Starts of the embedded PostgreSQL (the built EmbeddedPostgresServer, as `npm start` runs it) in
// one process, for tests that race several processes over one DATA_DIR. Prints `ready` once
// loaded. On the line `go`: start() with a new server object, then prints `started` or
// `refused <the error's message>`. On the line `stop`: stops the server it started, prints
// `stopped`. Exits when stdin closes.
const { resolve } = require('node:path');
const { createInterface } = require('node:readline');
const { EmbeddedPostgresServer } = require(resolve(__dirname, '../../dist/src/dev/embedded-postgres.js'));

let server;
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line === 'go') {
      server = new EmbeddedPostgresServer({
        dataDir: process.env.DATA_DIR,
        port: Number(process.env.EMBEDDED_POSTGRES_PORT),
        logger: { log: () => undefined, warn: () => undefined },
      });
      server.start().then(
        () => process.stdout.write('started\n'),
        (error) => process.stdout.write(`refused ${error instanceof Error ? error.message : String(error)}\n`),
      );
    } else if (line === 'stop') {
      server.stop().then(
        () => process.stdout.write('stopped\n'),
        (error) => process.stdout.write(`stop failed ${String(error)}\n`),
      );
    }
  })
  .on('close', () => process.exit(0));
process.stdout.write('ready\n');
