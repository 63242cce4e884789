import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { DataSource } from 'typeorm';
import type { Env } from '../config/env.schema';
import { PgNotifications } from '../database/pg-notifications.service';
import { Metrics } from '../metrics/metrics.service';
import { describeAmqpUrl, redactCredentials, withHeartbeat } from './amqp-url';
import { backoffDelay } from '../common/backoff';
import { CLAIM_LOCK_SPACE, OUTBOX_CHANNEL } from './bus.constants';
import { buildEnvelope, ENVELOPE_VERSION, type OutboxRow } from './envelope';

/** Consecutive rows of one key published per round (one after the other, each confirmed). */
const ROWS_PER_KEY = 10;
/** Unpublished rows, oldest first, looked at per round to find the keys to publish. */
const WINDOW_FACTOR = 10;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;
const CONFIRM_TIMEOUT_MAX_MS = 10_000;
/** How long shutdown lets an in-flight round finish before it cuts the broker connection. */
const SHUTDOWN_GRACE_MS = 2_000;

export type BrokerStatus = 'up' | 'down' | 'disabled';

/** The broker as `/health/ready` reports it. */
export interface BrokerHealth {
  status: BrokerStatus;
  exchange: string;
  /** Since when the status holds (ISO 8601). */
  since: string;
  /** The last connection or publish error, while down. */
  error?: string;
  /** Outbox rows not yet confirmed by the broker. */
  pending?: number;
}

interface ClaimedRow extends OutboxRow {
  seq: string;
  /** When the row was written (its transaction's time): the start of its publish lag. */
  createdAt: Date;
}

interface ClaimedRecord {
  id: string;
  seq: string;
  type: string;
  entity_key: string;
  source: string;
  payload: unknown;
  occurred_at: Date;
  created_at: Date;
}

class BrokerError extends Error {}

/**
 * Publishes outbox rows to the RabbitMQ topic exchange, at least once and in commit order per
 * entity key.
 *
 * A round: in a short transaction, take up to `OUTBOX_BATCH_SIZE` rows, at most ROWS_PER_KEY per
 * key, only from keys with no row reserved by another relay (a per-key advisory lock makes the
 * check race-free between relays), and reserve them for `OUTBOX_LEASE_MS`. Then, outside any
 * transaction, publish each key's rows in order on a confirm channel, each only after the previous
 * one's confirm; mark the confirmed rows published and release the rest. A relay that dies between
 * the confirm and the mark leaves its reservation to expire, and the rows are published again:
 * a duplicate with the same `message_id`, never a loss.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly url?: string;
  private readonly exchange: string;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;

  private status: BrokerStatus = 'disabled';
  private statusSince = new Date();
  private lastError?: string;

  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private loop?: Promise<void>;
  private stopping = false;
  private connectedBefore = false;
  private wakeRequested = false;
  private waiter?: { wakeable: boolean; release: () => void };

  constructor(
    config: ConfigService<Env, true>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: PgNotifications,
    private readonly metrics: Metrics,
  ) {
    this.url = config.get('RABBITMQ_URL', { infer: true });
    this.exchange = config.get('RABBITMQ_EXCHANGE', { infer: true });
    this.batchSize = config.get('OUTBOX_BATCH_SIZE', { infer: true });
    this.pollMs = config.get('OUTBOX_POLL_MS', { infer: true });
    this.leaseMs = config.get('OUTBOX_LEASE_MS', { infer: true });
  }

  onApplicationBootstrap(): void {
    if (!this.url) {
      this.logger.warn(
        'RABBITMQ_URL is unset: the outbox relay is off; events stay in outbox_messages until a relay with RABBITMQ_URL runs',
      );
      return;
    }
    this.setStatus('down', 'not connected yet');
    this.notifications.subscribe(OUTBOX_CHANNEL, () => this.wake());
    this.notifications.onReconnect(() => this.wake());
    this.logger.log(`Outbox relay publishing to exchange ${this.exchange} on ${describeAmqpUrl(this.url)}`);
    this.loop = this.run().catch((error: unknown) => {
      // run() handles its own errors; this is a last resort so the process never dies of it.
      this.logger.error(`Outbox relay stopped unexpectedly: ${describeError(error)}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.waiter?.release();
    // Let a round in flight finish (confirms usually take milliseconds); then cut the broker
    // connection, which fails what is left of it: those rows are released, not lost.
    const grace = new AbortController();
    const finished = await Promise.race([
      this.loop.then(() => true),
      sleep(SHUTDOWN_GRACE_MS, false, { signal: grace.signal }).catch(() => false),
    ]);
    grace.abort();
    if (!finished) await this.disconnect();
    await this.loop;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.disconnect();
  }

  /** The broker's state for `/health/ready`: never fails, whatever the broker does. */
  async health(): Promise<BrokerHealth> {
    const health: BrokerHealth = {
      status: this.status,
      exchange: this.exchange,
      since: this.statusSince.toISOString(),
    };
    if (this.status === 'down' && this.lastError) health.error = this.lastError;
    try {
      const [row] = await this.dataSource.query<{ pending: number }[]>(
        `SELECT count(*)::int AS pending FROM outbox_messages WHERE published_at IS NULL`,
      );
      health.pending = row.pending;
    } catch {
      // the database check reports that
    }
    return health;
  }

  /** Asks for a round now (a notification arrived, or a test wants one). */
  wake(): void {
    if (this.waiter?.wakeable) this.waiter.release();
    else this.wakeRequested = true;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let claimed: number;
      try {
        const channel = await this.ensureChannel();
        if (this.stopping) break;
        claimed = await this.round(channel);
        failures = 0;
      } catch (error) {
        failures++;
        const delay = backoffDelay(failures, { baseMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS });
        const what = error instanceof BrokerError ? 'Broker' : 'Outbox relay';
        this.logger.warn(`${what} error (attempt ${failures}), retrying in ${delay} ms: ${describeError(error)}`);
        await this.pause(delay, false);
        continue;
      }
      if (claimed === 0) await this.pause(this.pollMs, true);
    }
  }

  /** Claims, publishes and settles one batch; returns how many rows it claimed. */
  private async round(channel: ConfirmChannel): Promise<number> {
    const rows = await this.claim();
    if (rows.length === 0) return 0;

    const deadline = Date.now() + Math.min(CONFIRM_TIMEOUT_MAX_MS, Math.floor(this.leaseMs / 2));
    const byKey = new Map<string, ClaimedRow[]>();
    for (const row of rows) {
      const list = byKey.get(row.entityKey);
      if (list) list.push(row);
      else byKey.set(row.entityKey, [row]);
    }
    const confirmed: string[] = [];
    const failed: string[] = [];
    let firstError: unknown;
    await Promise.all(
      [...byKey.values()].map(async (keyRows) => {
        for (let i = 0; i < keyRows.length; i++) {
          try {
            await this.publish(channel, keyRows[i], deadline);
            confirmed.push(keyRows[i].id);
            this.metrics.outboxPublished(keyRows[i].createdAt);
          } catch (error) {
            firstError ??= error;
            // The rest of this key waits for the failed row: order before throughput.
            failed.push(...keyRows.slice(i).map((row) => row.id));
            return;
          }
        }
      }),
    );

    const failure = failed.length > 0 ? describeError(firstError).slice(0, 1000) : undefined;
    if (failure !== undefined) {
      // A failed publish leaves the channel in doubt: start again on a fresh connection.
      await this.disconnect();
      this.setStatus('down', failure);
    }
    // If this fails the reservations expire and the rows are published again (duplicates).
    if (confirmed.length > 0) {
      await this.dataSource.query(
        `UPDATE outbox_messages
         SET published_at = now(), locked_until = NULL, locked_by = NULL, last_error = NULL
         WHERE id = ANY($1::uuid[]) AND published_at IS NULL`,
        [confirmed],
      );
    }
    if (failure !== undefined) {
      await this.dataSource.query(
        `UPDATE outbox_messages SET locked_until = NULL, locked_by = NULL, last_error = $2
         WHERE id = ANY($1::uuid[]) AND locked_by = $3 AND published_at IS NULL`,
        [failed, failure, this.instanceId],
      );
      throw new BrokerError(`${failed.length} of ${rows.length} events not confirmed: ${failure}`);
    }
    return rows.length;
  }

  /**
   * Reserves the next rows, in a short transaction. Only keys whose oldest unpublished rows are
   * free qualify, and a key's rows are taken from its oldest on, so a key's events never overtake
   * each other, whichever relay publishes them.
   */
  private async claim(): Promise<ClaimedRow[]> {
    const records = await this.dataSource.transaction(async (manager) => {
      // The oldest unpublished rows (a prefix in seq order): a key's first row here is its oldest.
      const candidates = await manager.query<{ entity_key: string }[]>(
        `SELECT entity_key FROM (
           SELECT entity_key, seq, locked_until FROM outbox_messages
           WHERE published_at IS NULL ORDER BY seq LIMIT $1
         ) AS window_rows
         GROUP BY entity_key
         HAVING NOT bool_or(locked_until IS NOT NULL AND locked_until > now())
         ORDER BY min(seq)
         LIMIT $2`,
        [this.batchSize * WINDOW_FACTOR, this.batchSize],
      );
      if (candidates.length === 0) return [];
      // Keys another relay is claiming right now are skipped this round.
      const locked = await manager.query<{ k: string }[]>(
        `SELECT k FROM unnest($2::text[]) AS k WHERE pg_try_advisory_xact_lock($1, hashtext(k))`,
        [CLAIM_LOCK_SPACE, candidates.map((c) => c.entity_key)],
      );
      if (locked.length === 0) return [];
      // A fresh snapshot (read committed): reservations committed by other relays are seen here.
      const [claimed] = await manager.query<[ClaimedRecord[], number]>(
        `UPDATE outbox_messages AS o
         SET locked_until = now() + make_interval(secs => $3::double precision / 1000),
             locked_by = $2,
             attempts = o.attempts + 1
         FROM (
           -- Each key's oldest rows, unless one of them is reserved; cut to the batch size in
           -- seq order, which keeps every key's rows a prefix of its queue.
           SELECT id FROM (
             SELECT head.id, head.seq,
                    bool_or(head.locked_until IS NOT NULL AND head.locked_until > now())
                      OVER (PARTITION BY keys.k) AS busy
             FROM unnest($1::text[]) AS keys(k)
             CROSS JOIN LATERAL (
               SELECT id, seq, locked_until FROM outbox_messages
               WHERE published_at IS NULL AND entity_key = keys.k
               ORDER BY seq LIMIT $4
             ) AS head
           ) AS runs
           WHERE NOT busy
           ORDER BY seq
           LIMIT $5
         ) AS c
         WHERE o.id = c.id AND o.published_at IS NULL
         RETURNING o.id, o.seq, o.type, o.entity_key, o.source, o.payload, o.occurred_at, o.created_at`,
        [locked.map((l) => l.k), this.instanceId, this.leaseMs, ROWS_PER_KEY, this.batchSize],
      );
      return claimed;
    });
    return records
      .map((r) => ({
        id: r.id,
        seq: String(r.seq),
        type: r.type,
        entityKey: r.entity_key,
        source: r.source,
        payload: r.payload,
        occurredAt: new Date(r.occurred_at),
        createdAt: new Date(r.created_at),
      }))
      .sort((a, b) => compareSeq(a.seq, b.seq));
  }

  /** Publishes one row; resolves on the broker's confirm, rejects on a nack, a closed channel or the deadline. */
  private publish(channel: ConfirmChannel, row: ClaimedRow, deadline: number): Promise<void> {
    const body = Buffer.from(JSON.stringify(buildEnvelope(row)));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerError(`no confirm for ${row.type} ${row.id} in time`)),
        Math.max(0, deadline - Date.now()),
      );
      try {
        channel.publish(
          this.exchange,
          row.type,
          body,
          {
            persistent: true,
            messageId: row.id,
            contentType: 'application/json',
            contentEncoding: 'utf-8',
            type: row.type,
            appId: row.source,
            timestamp: Math.floor(row.occurredAt.getTime() / 1000),
            headers: { 'x-entity-key': row.entityKey, 'x-envelope-version': ENVELOPE_VERSION },
          },
          (error: unknown) => {
            clearTimeout(timer);
            if (error) reject(new BrokerError(`broker did not confirm ${row.type} ${row.id}: ${describeError(error)}`));
            else resolve();
          },
        );
      } catch (error) {
        clearTimeout(timer);
        reject(new BrokerError(describeError(error)));
      }
    });
  }

  private async ensureChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const url = this.url!;
    let connection: ChannelModel;
    try {
      connection = await connect(withHeartbeat(url), {
        timeout: CONNECT_TIMEOUT_MS,
        clientProperties: { connection_name: `panora-webhooks outbox relay ${this.instanceId}` },
      });
    } catch (error) {
      this.setStatus('down', describeError(error));
      throw new BrokerError(`cannot connect to ${describeAmqpUrl(url)}: ${describeError(error)}`);
    }
    connection.on('error', (error: Error) => this.logger.warn(`Broker connection error: ${describeError(error)}`));
    connection.on('close', () => {
      if (this.connection === connection) void this.lost('connection closed');
    });
    connection.on('blocked', (reason: string) => this.logger.warn(`Broker blocked publishing: ${reason}`));
    connection.on('unblocked', () => this.logger.log('Broker unblocked publishing'));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (error: Error) => this.logger.warn(`Broker channel error: ${describeError(error)}`));
      // A closed channel on an open connection (e.g. an exchange error): start afresh.
      channel.on('close', () => {
        if (this.channel === channel) void this.lost('channel closed');
      });
      await channel.assertExchange(this.exchange, 'topic', { durable: true });
      this.connection = connection;
      this.channel = channel;
    } catch (error) {
      connection.removeAllListeners('close');
      await connection.close().catch(() => undefined);
      this.setStatus('down', describeError(error));
      throw new BrokerError(`cannot set up exchange ${this.exchange}: ${describeError(error)}`);
    }
    this.setStatus('up');
    this.logger.log(
      `${this.connectedBefore ? 'Reconnected' : 'Connected'} to ${describeAmqpUrl(url)}, exchange ${this.exchange}`,
    );
    this.connectedBefore = true;
    return this.channel;
  }

  /** The connection or channel closed under us: report the broker down and reconnect. */
  private async lost(reason: string): Promise<void> {
    this.setStatus('down', reason);
    this.logger.warn(`Broker ${reason}; reconnecting`);
    await this.disconnect();
    this.wake();
  }

  private async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    if (!connection) return;
    connection.removeAllListeners('close');
    await connection.close().catch(() => undefined);
  }

  private setStatus(status: BrokerStatus, error?: string): void {
    if (status !== this.status) this.statusSince = new Date();
    this.status = status;
    this.lastError = error === undefined ? undefined : redactCredentials(error).slice(0, 500);
  }

  /** Sleeps `ms`; a wakeable pause also ends on `wake()`; every pause ends on shutdown. */
  private pause(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (wakeable && this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        if (this.waiter?.release === release) this.waiter = undefined;
        if (wakeable) this.wakeRequested = false;
        resolve();
      };
      const timer = setTimeout(release, ms);
      this.waiter = { wakeable, release };
    });
  }
}

function compareSeq(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactCredentials(message || (error instanceof Error ? error.name : 'unknown error'));
}
