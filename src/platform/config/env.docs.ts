import { envSchema, parseEnv } from './env.schema';

/**
 * What each key of the env schema means, for people: the source of the configuration table in
 * docs/configuration.md and of .env.example (`npm run docs:config` writes both; a unit spec fails
 * when either is out of step). Kept beside the schema rather than inside it, so the schema stays
 * the validator and nothing else.
 */
export type EnvKey = keyof typeof envSchema.shape;

export interface EnvKeyDoc {
  /** Markdown, one paragraph; no `|` (it is a table cell). */
  description: string;
  /** How the default is shown when the parsed default is not readable as is (`5mb` for bytes). */
  shownDefault?: string;
  /** The default is computed from other keys (so no single value parses to it). */
  computedDefault?: boolean;
  /** A credential: .env.example shows this placeholder, never a value. */
  secretPlaceholder?: string;
  /** Shown in .env.example instead of an empty value for a key without a default. */
  example?: string;
}

export interface EnvSection {
  title: string;
  keys: Partial<Record<EnvKey, EnvKeyDoc>>;
}

export const ENV_SECTIONS: EnvSection[] = [
  {
    title: 'Server',
    keys: {
      PORT: { description: 'HTTP port' },
      HOST: { description: 'address to listen on' },
      NODE_ENV: {
        description: '`development`, `production` or `test`; `production` makes missing secrets fatal',
      },
      LOG_LEVEL: {
        description: '`fatal` `error` `warn` `info` `debug` `trace` `silent`; logs are JSON lines with a request id',
      },
      LOG_PRETTY: {
        description:
          'human-readable logs, one line per entry, for a terminal; uses `pino-pretty`, a development dependency: where it is not installed (`npm ci --omit=dev`, the production image) `LOG_PRETTY=true` stops the start with one line',
      },
      SHUTDOWN_TIMEOUT_MS: { description: 'a graceful shutdown taking longer than this exits anyway' },
      REQUEST_TIMEOUT_MS: {
        description: 'a request whose body has not arrived by then is cut off (slow-loris bound)',
      },
    },
  },
  {
    title: 'Database',
    keys: {
      DATABASE_URL: {
        description:
          '`postgres://user:password@host:5432/db`; required when `NODE_ENV=production`; unset in development: `npm start` runs an embedded PostgreSQL (a development tool from devDependencies)',
        example: 'postgres://user:password@127.0.0.1:5432/panora',
      },
      DATA_DIR: {
        description:
          'where the embedded PostgreSQL keeps its cluster and credentials (and a generated development `SECRETS_KEY`); one process uses it at a time (see [Operations](operations.md#embedded-postgresql))',
      },
      EMBEDDED_POSTGRES_PORT: {
        description:
          'port of the embedded PostgreSQL (127.0.0.1 only). Unset: the port recorded in `DATA_DIR/postgres.port` when it is free, else `54329` when free, else any free port, then recorded there, so clones with their own `DATA_DIR` start side by side; the start-up line says which port and why. Set: exactly this port, and start-up stops with one line when it is taken',
      },
      DATABASE_POOL_SIZE: { description: 'connections in the pool (at most 200)' },
      DATABASE_STARTUP_TIMEOUT: {
        description:
          'seconds start-up keeps retrying an unreachable database (refused, timed out, starting up) before it exits 1; a database it can never use (does not exist, login refused, permission denied, a migration fails) stops start-up at once, exit 1, with one JSON log line that says what to fix',
      },
    },
  },
  {
    title: 'Receiving and processing',
    keys: {
      WEBHOOK_BODY_LIMIT: {
        description:
          'largest delivery accepted (bytes, or `512kb`, `5mb`); `*.pulled` events carry whole arrays; 413 beyond',
        shownDefault: '5mb',
      },
      WEBHOOK_MAX_ATTEMPTS: {
        description:
          'attempts before an event is `dead`, counted from its receipt or its last replay (a permanent failure is `dead` at once); at most 50',
      },
      WEBHOOK_RETRY_BASE_MS: {
        description: 'first retry delay, doubling with jitter, capped by `WEBHOOK_RETRY_MAX_MS`',
      },
      WEBHOOK_RETRY_MAX_MS: {
        description: 'longest retry delay (with the defaults, 8 attempts span about 21 h)',
      },
      DISPATCH_BATCH_SIZE: { description: 'events taken per dispatcher round (at most 1000)' },
      DISPATCH_BATCH_BYTES: {
        description:
          'stored payload bytes taken per round (at least one event), so rounds of large `*.pulled` events stay small in memory',
        shownDefault: '8mb',
      },
      DISPATCH_CONCURRENCY: {
        description: 'events handed to per-event listeners at once (at most 100)',
      },
      DISPATCH_POLL_MS: { description: 'fallback poll (the dispatcher is woken at once by new events)' },
      DISPATCH_LEASE_MS: {
        description: 'an event claimed by an instance that then died is taken again after this',
      },
      DISPATCH_YIELD_MS: {
        description:
          'while deliveries are arriving, the dispatcher leaves at least this long between two rounds, so receiving (which Panora never retries) gets the CPU and the database first; the backlog drains once the burst is over. `0`: no pause (at most 10000)',
      },
      DISPATCH_PARALLEL_ROUNDS: {
        description:
          'rounds run at once on a backlog while no delivery is arriving (as that many instances would; `SKIP LOCKED` keeps their claims apart); at most 16',
      },
      INBOX_RETENTION_DAYS: {
        description: 'payloads of events processed longer ago are dropped (rows stay, for deduplication)',
      },
    },
  },
  {
    title: 'Admin API',
    keys: {
      ADMIN_API_KEYS: {
        description:
          'full admin keys, comma-separated, for `Authorization: Bearer <key>` on `/admin/*`; 16 characters at least each (start-up stops otherwise); unset: the admin API answers 401',
        secretPlaceholder: '<a key of 16+ characters>,<another>',
      },
      ADMIN_READ_API_KEYS: {
        description:
          'read-only admin keys (16+ characters each): GET routes only (events, endpoints, connections and their tokens for sibling services, CRM); any other admin route answers `403`. A key may not be in both lists',
        secretPlaceholder: '<a read-only key of 16+ characters>',
      },
      ADMIN_AUTH_MAX_FAILURES: {
        description:
          'wrong admin keys allowed per client (IP address; IPv6 by /64) per minute; one more blocks that client',
      },
      ADMIN_AUTH_BLOCK_SECONDS: {
        description:
          'how long a blocked client gets `429` (with `Retry-After`) on every admin route, even with a right key (at most 86400)',
      },
    },
  },
  {
    title: 'Secrets',
    keys: {
      SECRETS_KEY: {
        description:
          '32 random bytes, base64 (`openssl rand -base64 32`): seals endpoint secrets and connection tokens (AES-256-GCM). Unset outside production: a key is generated into `DATA_DIR/secrets.key` with a warning and reused by later starts; required when `NODE_ENV=production`. Checked with the rest of the configuration: a malformed key, or none in production, stops the process with one line before anything starts',
        secretPlaceholder: '<output of: openssl rand -base64 32>',
      },
      SECRETS_KEY_PREVIOUS: {
        description:
          'earlier `SECRETS_KEY` values, comma-separated, each 32 bytes base64 like it, still accepted to open old values (key rotation)',
        secretPlaceholder: '<the previous SECRETS_KEY>',
      },
      SECRET_ROTATION_GRACE: {
        description: 'seconds an endpoint’s old secret still verifies after a rotation',
      },
    },
  },
  {
    title: 'Panora',
    keys: {
      PANORA_BASE_URL: {
        description:
          'Panora’s API (sandbox `https://api-sandbox.panora.dev`, self-hosted usually `http://localhost:3000`)',
      },
      PANORA_API_KEY: {
        description:
          'project API key (`x-api-key`); needed to register endpoints, resolve linked users, reconcile connections',
        secretPlaceholder: '<your Panora project API key>',
      },
      PANORA_TIMEOUT_MS: { description: 'timeout of one call to Panora' },
      PUBLIC_BASE_URL: {
        description:
          'how Panora reaches this service: registered URLs are `${PUBLIC_BASE_URL}/webhooks/panora/<id>` (behind a tunnel, the tunnel’s https address: see [Getting started](getting-started.md#receiving-real-panora-events-on-a-laptop))',
        shownDefault: 'http://localhost:$PORT',
        computedDefault: true,
        example: 'https://webhooks.example.com',
      },
      CONNECTIONS_RECONCILE_INTERVAL: {
        description: 'seconds between reconciliations with Panora’s `GET /connections` (off without `PANORA_API_KEY`)',
      },
      RECOVERY_INTERVAL: {
        description:
          'seconds between recovery runs, which find the events Panora sent that never arrived (`GET /events`) and recover them (see [Operations](operations.md#recovering-missed-events)); one run at start-up too; `0`: no schedule, runs on `POST /admin/recovery/run` only (at most 604800); off without `PANORA_API_KEY`',
      },
      RECOVERY_OVERLAP: {
        description: 'seconds each recovery walk goes back behind the point the previous complete walk reached',
      },
      RECOVERY_LOOKBACK: { description: 'hours the very first recovery walk goes back (at most 8760)' },
      RECOVERY_PAGE_SIZE: {
        description: 'events per page of Panora’s `GET /events` during a recovery walk (at most 500)',
      },
      RECOVERY_REQUESTS_PER_MINUTE: {
        description:
          'pace of the calls recovery makes to Panora (the events walk and the unified lists; a reconciliation it triggers counts as one); Panora allows 100 a minute per client address, shared with the rest of this service',
      },
    },
  },
  {
    title: 'Event bus',
    keys: {
      RABBITMQ_URL: {
        description:
          '`amqp://user:password@host:5672/vhost` (or `amqps://`); unset: the outbox relay is off and events wait in the outbox',
        example: 'amqp://user:password@127.0.0.1:5672',
      },
      RABBITMQ_EXCHANGE: {
        description: 'the durable topic exchange (declared by the relay); letters, digits, `_ - . :`, not `amq.*`',
      },
      OUTBOX_RETENTION_HOURS: { description: 'published rows are deleted after this' },
      OUTBOX_POLL_MS: { description: 'fallback poll when no notification arrives' },
      OUTBOX_BATCH_SIZE: { description: 'rows per relay round (at most 10 per key; at most 1000)' },
      OUTBOX_LEASE_MS: {
        description: 'a row claimed by a relay that then died is published again after this (at least 1000)',
      },
    },
  },
  {
    title: 'Metrics',
    keys: {
      METRICS_TOKEN: {
        description:
          'when set (16+ characters), `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>`; with `NODE_ENV=production`, this or `METRICS_PUBLIC=true` is required; unset outside production, it is open',
        secretPlaceholder: '<a token of 16+ characters>',
      },
      METRICS_PUBLIC: {
        description:
          '`true` leaves `/metrics` open in production on purpose; not allowed together with `METRICS_TOKEN`. A line at start says which applies',
      },
    },
  },
];

/** Every key's documentation, in the order of the sections. */
export function envKeyDocs(): Array<[EnvKey, EnvKeyDoc]> {
  return ENV_SECTIONS.flatMap((section) => Object.entries(section.keys) as Array<[EnvKey, EnvKeyDoc]>);
}

/** The default as a reader should write it, or undefined when the key is unset by default. */
export function shownDefault(key: EnvKey, doc: EnvKeyDoc): string | undefined {
  if (doc.shownDefault !== undefined) return doc.shownDefault;
  const value = parseEnv({})[key];
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined;
  if (typeof value === 'object') throw new Error(`${key}: give its default as shownDefault`);
  return String(value);
}

export const CONFIG_DOCS_BEGIN =
  '<!-- env-schema:begin (generated by `npm run docs:config` from src/platform/config/env.docs.ts) -->';
export const CONFIG_DOCS_END = '<!-- env-schema:end -->';

/** The configuration reference: one table per section. */
export function renderConfigTable(): string {
  const parts = ENV_SECTIONS.map((section) => {
    const rows = (Object.entries(section.keys) as Array<[EnvKey, EnvKeyDoc]>).map(([key, doc]) => {
      const shown = shownDefault(key, doc);
      return `| \`${key}\` | ${shown === undefined ? 'unset' : `\`${shown}\``} | ${doc.description} |`;
    });
    return [`### ${section.title}`, '', '| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
  });
  return parts.join('\n\n');
}

/** `document` with the text between the markers replaced by the generated table. */
export function withConfigTable(document: string): string {
  const begin = document.indexOf(CONFIG_DOCS_BEGIN);
  const end = document.indexOf(CONFIG_DOCS_END);
  if (begin < 0 || end < begin) {
    throw new Error(`docs/configuration.md: markers ${CONFIG_DOCS_BEGIN} … ${CONFIG_DOCS_END} not found`);
  }
  return `${document.slice(0, begin + CONFIG_DOCS_BEGIN.length)}\n\n${renderConfigTable()}\n\n${document.slice(end)}`;
}

/** Markdown to plain text for a comment: code spans and links lose their markup. */
function plain(markdown: string): string {
  return markdown.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/`/g, '');
}

/** A help line must not read as a commented-out setting (`# NODE_ENV=production, …`). */
const ASSIGNMENT = /^[A-Z][A-Z0-9_]*=/;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      const carried = ASSIGNMENT.test(word) && line.includes(' ') ? line.slice(line.lastIndexOf(' ') + 1) : '';
      lines.push(carried ? line.slice(0, line.length - carried.length - 1) : line);
      line = carried ? `${carried} ${word}` : word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Read by the CLI only (src/cli), not by the service: outside the schema, listed for .env. */
export const CLI_ENV: Array<{ key: string; description: string; example: string }> = [
  {
    key: 'PANORA_WEBHOOKS_URL',
    description: 'the service the CLI talks to; default http://localhost:$PORT',
    example: 'http://localhost:3000',
  },
  {
    key: 'ADMIN_API_KEY',
    description: 'the admin key the CLI sends; default: the first of ADMIN_API_KEYS',
    example: '<one of ADMIN_API_KEYS>',
  },
];

/** .env.example: every key, commented out, with its default; credentials only as placeholders. */
export function renderEnvExample(): string {
  const out: string[] = [
    '# panora-webhooks configuration. Copy to .env (read from the working folder by the service and',
    '# the CLI) and uncomment what you change; the environment wins over .env. Every key is optional',
    '# outside production. Reference: docs/configuration.md.',
    '# Generated from src/platform/config/env.docs.ts by `npm run docs:config`: edit there, not here.',
  ];
  for (const section of ENV_SECTIONS) {
    out.push('', `# ---- ${section.title} ----`);
    for (const [key, doc] of Object.entries(section.keys) as Array<[EnvKey, EnvKeyDoc]>) {
      out.push('', ...wrap(plain(doc.description), 98).map((line) => `# ${line}`));
      const shown = shownDefault(key, doc);
      if (doc.computedDefault) out.push(`# (default: ${shown})`);
      const value = doc.secretPlaceholder ?? (doc.computedDefault ? undefined : shown) ?? doc.example ?? '';
      out.push(`# ${key}=${value}`);
    }
  }
  out.push('', '# ---- CLI (npx panora-webhooks) ----');
  for (const { key, description, example } of CLI_ENV) {
    out.push('', `# ${description}`, `# ${key}=${example}`);
  }
  return `${out.join('\n')}\n`;
}
