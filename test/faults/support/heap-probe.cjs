'use strict';
// Preloaded into the service by the hostile-input suite (NODE_OPTIONS="--expose-gc --require
// <this file>"), never in production: on SIGUSR2, two full garbage collections, then one line on
// stdout with what is still in use. The suite compares it before and after a flood of bad
// requests: unlike the resident set size, it does not depend on when V8 chose to collect.
process.on('SIGUSR2', () => {
  global.gc();
  global.gc();
  const { heapUsed, external } = process.memoryUsage();
  process.stdout.write(`heap-probe heapUsed=${heapUsed} external=${external}\n`);
});
