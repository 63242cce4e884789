import { configSlice, type SliceOf } from '../platform/config';

/**
 * A delivery Panora is sending right now is not missed: events younger than this are left to the
 * next run (whose walk goes back past them, RECOVERY_OVERLAP behind the watermark).
 */
export const RECOVERY_SETTLE_MS = 30_000;

/** The recovery stage's settings (docs/configuration.md, "Panora"). */
export const recoveryConfig = configSlice('recovery', (env) => ({
  /** Without PANORA_API_KEY, Panora cannot be asked what it sent: recovery is off. */
  enabled: env.PANORA_API_KEY !== undefined,
  /** 0: no schedule (nor the start-up run); POST /admin/recovery/run only. */
  intervalMs: env.RECOVERY_INTERVAL * 1000,
  overlapMs: env.RECOVERY_OVERLAP * 1000,
  lookbackMs: env.RECOVERY_LOOKBACK * 60 * 60 * 1000,
  pageSize: env.RECOVERY_PAGE_SIZE,
  /** Settled missed events are kept as long as the inbox keeps payloads. */
  retentionDays: env.INBOX_RETENTION_DAYS,
  requestsPerMinute: env.RECOVERY_REQUESTS_PER_MINUTE,
  settleMs: RECOVERY_SETTLE_MS,
  /** Objects per page of a unified list (Panora's default). */
  unifiedPageSize: 50,
}));
export type RecoveryConfig = SliceOf<typeof recoveryConfig>;
