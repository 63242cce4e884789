import { configSlice, type SliceOf } from '../platform/config';

/** The outbox's settings (docs/configuration.md, "Bus (RabbitMQ)"). */
export const outboxConfig = configSlice('outbox', (env) => ({
  /** Unset: the bus is off, rows wait in the outbox until a broker is configured. */
  rabbitmqUrl: env.RABBITMQ_URL,
  exchange: env.RABBITMQ_EXCHANGE,
  pollMs: env.OUTBOX_POLL_MS,
  leaseMs: env.OUTBOX_LEASE_MS,
  batchSize: env.OUTBOX_BATCH_SIZE,
  retentionHours: env.OUTBOX_RETENTION_HOURS,
  /**
   * An event breaking its contract (src/contracts) when written: `throw` under tests (jest sets
   * NODE_ENV=test), so a builder that drifts fails them; otherwise `log` (logged, counted, written).
   */
  contractViolations: env.NODE_ENV === 'test' ? ('throw' as const) : ('log' as const),
}));
export type OutboxConfig = SliceOf<typeof outboxConfig>;
