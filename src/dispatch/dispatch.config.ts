import { configSlice, type SliceOf } from '../platform/config';

/** The dispatcher's settings (docs/configuration.md, "Processing"). */
export const dispatchConfig = configSlice('dispatch', (env) => ({
  maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
  retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
  retryMaxMs: env.WEBHOOK_RETRY_MAX_MS,
  concurrency: env.DISPATCH_CONCURRENCY,
  pollMs: env.DISPATCH_POLL_MS,
  leaseMs: env.DISPATCH_LEASE_MS,
  yieldMs: env.DISPATCH_YIELD_MS,
  parallelRounds: env.DISPATCH_PARALLEL_ROUNDS,
  batchSize: env.DISPATCH_BATCH_SIZE,
  batchBytes: env.DISPATCH_BATCH_BYTES,
}));
export type DispatchConfig = SliceOf<typeof dispatchConfig>;
