import { z } from 'zod';
import { isSecretKey, SECRET_KEY_FORMAT } from './secret-key';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Parses `5242880`, `512kb`, `5MiB` into bytes. */
const byteSize = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*(b|kb|kib|mb|mib|gb|gib)?$/i, 'expected a size such as 5242880, 512kb or 5mb')
  .transform((value) => {
    const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value)!;
    return Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]);
  });

/** A comma-separated list, empty items dropped. */
const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/** Admin keys: at least 16 characters each, so none can be guessed by trying. */
export const ADMIN_KEY_MIN_LENGTH = 16;
const adminKeys = csv.superRefine((keys, ctx) => {
  keys.forEach((key, index) => {
    if (key.length < ADMIN_KEY_MIN_LENGTH)
      ctx.addIssue({
        code: 'custom',
        message: `item ${index + 1}: expected at least ${ADMIN_KEY_MIN_LENGTH} characters`,
      });
  });
});

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected a whole port number')
  .min(1, 'expected a port between 1 and 65535')
  .max(65535, 'expected a port between 1 and 65535');

const wholeNumber = z.coerce.number({ message: 'expected a number' }).int('expected a whole number');
const positiveInt = wholeNumber.positive('expected a number above 0');
const nonNegativeInt = wholeNumber.min(0, 'expected 0 or more');

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a URL like postgres://user:password@host:5432/database');

const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected an http:// or https:// URL')
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * The whole configuration of the service. Every environment variable the service reads is listed
 * here, validated once at start; nothing else reads `process.env`.
 */
const envObject = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Pretty, human-readable logs instead of JSON lines (development only). */
  LOG_PRETTY: boolean.default(false),

  DATABASE_URL: postgresUrl.optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  /** Unset: the embedded PostgreSQL picks a free port and records it in DATA_DIR (src/dev/embedded-port.ts). */
  EMBEDDED_POSTGRES_PORT: port.optional(),
  DATABASE_POOL_SIZE: positiveInt.max(200, 'expected at most 200').default(10),
  /** How long start-up keeps retrying an unreachable database before it gives up (seconds). */
  DATABASE_STARTUP_TIMEOUT: positiveInt.default(30),
  /** How long a graceful shutdown may take before the process exits anyway (milliseconds). */
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  /** Requests whose body has not fully arrived after this long are cut off (milliseconds). */
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),

  WEBHOOK_BODY_LIMIT: byteSize.default(5 * 1024 * 1024),
  /** Attempts per listener before an event is marked dead. */
  WEBHOOK_MAX_ATTEMPTS: positiveInt.max(50, 'expected at most 50').default(8),
  /** First retry delay (milliseconds); doubles per attempt, with jitter. */
  WEBHOOK_RETRY_BASE_MS: positiveInt.default(10 * 60_000),
  WEBHOOK_RETRY_MAX_MS: positiveInt.default(12 * 60 * 60 * 1000),
  /** Events handed to listeners at the same time (each may hold a database connection). */
  DISPATCH_CONCURRENCY: positiveInt.max(100, 'expected at most 100').default(8),
  /** Stored (compressed) payload bytes taken per dispatcher round, at least one event. */
  DISPATCH_BATCH_BYTES: byteSize.default(8 * 1024 * 1024),
  /** Events taken per dispatcher round. */
  DISPATCH_BATCH_SIZE: positiveInt.max(1000, 'expected at most 1000').default(100),
  /** How long a claimed event stays with one dispatcher before another may take it (ms). */
  DISPATCH_LEASE_MS: positiveInt.default(60_000),
  /** Fallback poll when no notification arrives (milliseconds). */
  DISPATCH_POLL_MS: positiveInt.default(1000),
  /**
   * While deliveries are arriving, the dispatcher leaves at least this long between two rounds so
   * that receiving (which Panora never retries) gets the CPU and the database first; with no
   * delivery in that time, rounds run back to back. 0: no pause.
   */
  DISPATCH_YIELD_MS: nonNegativeInt.max(10_000, 'expected at most 10000').default(100),
  /** Rounds run at once on a backlog while no delivery is arriving (as several instances would). */
  DISPATCH_PARALLEL_ROUNDS: positiveInt.max(16, 'expected at most 16').default(2),
  /** Processed events older than this lose their payload (days). */
  INBOX_RETENTION_DAYS: positiveInt.default(30),

  /** Full admin keys: every /admin route (`Authorization: Bearer <key>`). */
  ADMIN_API_KEYS: adminKeys.default([]),
  /** Read-only admin keys: GET (and HEAD) /admin routes only, connection tokens included. */
  ADMIN_READ_API_KEYS: adminKeys.default([]),
  /** Failed admin authentications allowed per client (IP address, IPv6 by /64) per minute; one more blocks it. */
  ADMIN_AUTH_MAX_FAILURES: positiveInt.max(10_000, 'expected at most 10000').default(10),
  /** How long a client stays blocked (429 on every /admin route, whatever key it sends), in seconds. */
  ADMIN_AUTH_BLOCK_SECONDS: positiveInt.max(24 * 60 * 60, 'expected at most 86400').default(15 * 60),
  /**
   * 32 random bytes, base64: seals endpoint secrets and connection tokens at rest (AES-256-GCM).
   * Required in production (see below); elsewhere a key is generated into DATA_DIR when unset.
   */
  SECRETS_KEY: z.string().refine(isSecretKey, SECRET_KEY_FORMAT).optional(),
  /** Earlier values of SECRETS_KEY, comma-separated, still accepted for opening old values. */
  SECRETS_KEY_PREVIOUS: csv
    .superRefine((keys, ctx) => {
      keys.forEach((key, index) => {
        if (!isSecretKey(key)) ctx.addIssue({ code: 'custom', message: `item ${index + 1}: ${SECRET_KEY_FORMAT}` });
      });
    })
    .default([]),
  /** How long an endpoint's old secret keeps verifying after a rotation (seconds). */
  SECRET_ROTATION_GRACE: positiveInt.default(24 * 60 * 60),

  PANORA_BASE_URL: httpUrl.default('https://api.panora.dev'),
  PANORA_API_KEY: z.string().min(1).optional(),
  PANORA_TIMEOUT_MS: positiveInt.default(10_000),
  PUBLIC_BASE_URL: httpUrl.optional(),
  /** How often connections are reconciled with Panora's GET /connections (seconds; needs PANORA_API_KEY). */
  CONNECTIONS_RECONCILE_INTERVAL: positiveInt.default(3600),
  /** Seconds between recovery runs (missed events found in Panora's GET /events); 0 = no schedule, POST /admin/recovery/run only. */
  RECOVERY_INTERVAL: nonNegativeInt.max(7 * 24 * 60 * 60, 'expected at most 604800 (a week)').default(900),
  /** Seconds a recovery walk goes back behind its watermark, for events Panora stored late. */
  RECOVERY_OVERLAP: nonNegativeInt.default(600),
  /** Hours the very first recovery walk goes back. */
  RECOVERY_LOOKBACK: positiveInt.max(24 * 365, 'expected at most 8760').default(24),
  /** Events per page of GET /events. */
  RECOVERY_PAGE_SIZE: positiveInt.max(500, 'expected at most 500').default(100),
  /** Pace of every call recovery makes to Panora (Panora allows 100 a minute per client address). */
  RECOVERY_REQUESTS_PER_MINUTE: positiveInt.max(60_000, 'expected at most 60000').default(60),

  RABBITMQ_URL: z
    .string()
    .regex(/^amqps?:\/\/\S+$/, 'expected a URL like amqp://guest:guest@127.0.0.1:5672')
    .optional(),
  /** Durable topic exchange the outbox relay publishes events to. */
  RABBITMQ_EXCHANGE: z
    .string()
    .regex(/^(?!amq\.)[A-Za-z0-9_.:-]{1,255}$/, 'expected an exchange name of letters, digits, _ - . : (not amq.*)')
    .default('panora.events'),
  /** Published outbox rows are deleted after this long (hours). */
  OUTBOX_RETENTION_HOURS: positiveInt.default(72),
  /** Fallback poll of the outbox when no notification arrives (milliseconds). */
  OUTBOX_POLL_MS: positiveInt.default(1000),
  /** Outbox rows the relay publishes per round. */
  OUTBOX_BATCH_SIZE: positiveInt.max(1000, 'expected at most 1000').default(100),
  /** A row stays reserved this long for the relay publishing it; a relay that died mid-publish has it published again after that (milliseconds). */
  OUTBOX_LEASE_MS: positiveInt.min(1000, 'expected at least 1000').default(30_000),

  /**
   * When set, `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>`. Unset, it is open, which
   * NODE_ENV=production refuses unless METRICS_PUBLIC=true says so on purpose.
   */
  METRICS_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
  /** Leaves `GET /metrics` open in production, on purpose (e.g. scraped over a private network only). */
  METRICS_PUBLIC: boolean.default(false),
});

export const envSchema = envObject.superRefine((env, ctx) => {
  // Checked here, with the rest of the configuration, so a production start without the key
  // stops on one line before the database or anything else starts.
  if (env.NODE_ENV === 'production' && env.SECRETS_KEY === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['SECRETS_KEY'],
      message: `required when NODE_ENV=production: ${SECRET_KEY_FORMAT}`,
    });
  }
  // Without DATABASE_URL the service starts an embedded PostgreSQL (src/dev/), which production
  // installs do not carry: refused here, before anything starts.
  if (env.NODE_ENV === 'production' && env.DATABASE_URL === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_URL'],
      message: 'required when NODE_ENV=production: the embedded PostgreSQL is a development tool',
    });
  }
  if (env.METRICS_PUBLIC && env.METRICS_TOKEN !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['METRICS_PUBLIC'],
      message: 'true while METRICS_TOKEN is set: unset one of them (a token, or /metrics open to all)',
    });
  } else if (env.NODE_ENV === 'production' && !env.METRICS_PUBLIC && env.METRICS_TOKEN === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['METRICS_TOKEN'],
      message:
        'required when NODE_ENV=production: set METRICS_TOKEN (16+ characters) for GET /metrics, or METRICS_PUBLIC=true to leave it open',
    });
  }
  // A key has one scope: one listed in both would be full or read-only depending on which is checked.
  const full = new Set(env.ADMIN_API_KEYS);
  env.ADMIN_READ_API_KEYS.forEach((key, index) => {
    if (full.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_READ_API_KEYS'],
        message: `item ${index + 1} is also in ADMIN_API_KEYS: list each key once, with the scope it should have`,
      });
    }
  });
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {}

/**
 * Validates the environment. Throws a ConfigError whose message is one line naming each bad key
 * and what it expects; values are never echoed (some are secrets).
 */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings mean "unset": `FOO= npm start` should fall back to the default.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}
