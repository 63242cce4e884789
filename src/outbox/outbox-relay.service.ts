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
import type { ConfirmChannel } from 'amqplib';
import { PgNotifications } from '../platform/database';
import { OutboxMetrics } from './outbox-metrics';
import { outboxConfig, type OutboxConfig } from './outbox.config';
import { AmqpChannel, BrokerError, describeError } from './amqp-channel';
import { describeAmqpUrl, redactCredentials } from './amqp-url';
import { backoffDelay } from '../platform/backoff';
import { OUTBOX_CHANNEL } from './outbox.constants';
import { OutboxRepository, type ClaimedRow } from './outbox.repository';

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
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
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly amqp: AmqpChannel;

  private status: BrokerStatus = 'disabled';
  private statusSince = new Date();
  private lastError?: string;

  private loop?: Promise<void>;
  private stopping = false;
  private wakeRequested = false;
  private waiter?: { wakeable: boolean; release: () => void };

  constructor(
    @outboxConfig.inject() config: OutboxConfig,
    private readonly outbox: OutboxRepository,
    private readonly notifications: PgNotifications,
    private readonly metrics: OutboxMetrics,
  ) {
    this.url = config.rabbitmqUrl;
    this.exchange = config.exchange;
    this.pollMs = config.pollMs;
    this.leaseMs = config.leaseMs;
    this.amqp = new AmqpChannel({
      url: this.url,
      exchange: this.exchange,
      instanceId: this.instanceId,
      logger: this.logger,
      onStatus: (status, error) => this.setStatus(status, error),
      onLost: (reason) => this.lost(reason),
    });
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
      health.pending = await this.outbox.pending();
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
        const channel = await this.amqp.ensure();
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
    const rows = await this.outbox.claim(this.instanceId);
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
            await this.amqp.publish(channel, keyRows[i], deadline);
            confirmed.push(keyRows[i].id);
            this.metrics.published(keyRows[i].createdAt);
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
      await this.outbox.markPublished(confirmed);
    }
    if (failure !== undefined) {
      await this.outbox.release(failed, failure, this.instanceId);
      throw new BrokerError(`${failed.length} of ${rows.length} events not confirmed: ${failure}`);
    }
    return rows.length;
  }

  /** The connection or channel closed under us: report the broker down and reconnect. */
  private async lost(reason: string): Promise<void> {
    this.setStatus('down', reason);
    this.logger.warn(`Broker ${reason}; reconnecting`);
    await this.disconnect();
    this.wake();
  }

  private disconnect(): Promise<void> {
    return this.amqp.disconnect();
  }

  private setStatus(status: BrokerStatus, error?: string): void {
    if (status !== this.status) this.statusSince = new Date();
    this.status = status;
    this.metrics.brokerStatus(status);
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
