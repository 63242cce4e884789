import type { Logger } from '@nestjs/common';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { isTracing, type TraceHeaders } from '../platform/tracing';
import { describeAmqpUrl, redactCredentials, withHeartbeat } from './amqp-url';
import { tracePublish } from './outbox-tracing';
import { buildEnvelope, CLOUDEVENTS_CONTENT_TYPE, CLOUDEVENTS_SPEC_VERSION, type OutboxRow } from './envelope';

const CONNECT_TIMEOUT_MS = 5_000;

/** A failure of the broker (connect, exchange, publish, confirm), as opposed to the database. */
export class BrokerError extends Error {}

export interface AmqpChannelOptions {
  /** `RABBITMQ_URL`; the channel is only ever opened when it is set. */
  url?: string;
  exchange: string;
  instanceId: string;
  /** The relay's logger: the log lines keep their context. */
  logger: Logger;
  /** A connection attempt failed (`error`) or succeeded (no error). */
  onStatus: (status: 'up' | 'down', error?: string) => void;
  /** The connection or channel closed under us. */
  onLost: (reason: string) => Promise<void>;
}

/**
 * The relay's broker connection: one confirm channel on the topic exchange, opened on demand,
 * dropped on any doubt and opened afresh by the next round.
 */
export class AmqpChannel {
  private connection?: ChannelModel;
  private channel?: ConfirmChannel;
  private connectedBefore = false;

  constructor(private readonly options: AmqpChannelOptions) {}

  async ensure(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    const { exchange, instanceId, logger } = this.options;
    const url = this.options.url!;
    let connection: ChannelModel;
    try {
      connection = await connect(withHeartbeat(url), {
        timeout: CONNECT_TIMEOUT_MS,
        clientProperties: { connection_name: `panora-webhooks outbox relay ${instanceId}` },
      });
    } catch (error) {
      this.options.onStatus('down', describeError(error));
      throw new BrokerError(`cannot connect to ${describeAmqpUrl(url)}: ${describeError(error)}`);
    }
    connection.on('error', (error: Error) => logger.warn(`Broker connection error: ${describeError(error)}`));
    connection.on('close', () => {
      if (this.connection === connection) void this.options.onLost('connection closed');
    });
    connection.on('blocked', (reason: string) => logger.warn(`Broker blocked publishing: ${reason}`));
    connection.on('unblocked', () => logger.log('Broker unblocked publishing'));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (error: Error) => logger.warn(`Broker channel error: ${describeError(error)}`));
      // A closed channel on an open connection (e.g. an exchange error): start afresh.
      channel.on('close', () => {
        if (this.channel === channel) void this.options.onLost('channel closed');
      });
      await channel.assertExchange(exchange, 'topic', { durable: true });
      this.connection = connection;
      this.channel = channel;
    } catch (error) {
      connection.removeAllListeners('close');
      await connection.close().catch(() => undefined);
      this.options.onStatus('down', describeError(error));
      throw new BrokerError(`cannot set up exchange ${exchange}: ${describeError(error)}`);
    }
    this.options.onStatus('up');
    logger.log(
      `${this.connectedBefore ? 'Reconnected' : 'Connected'} to ${describeAmqpUrl(url)}, exchange ${exchange}`,
    );
    this.connectedBefore = true;
    return this.channel;
  }

  async disconnect(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    if (!connection) return;
    connection.removeAllListeners('close');
    await connection.close().catch(() => undefined);
  }

  /** Publishes one row; resolves on the broker's confirm, rejects on a nack, a closed channel or the deadline. */
  publish(channel: ConfirmChannel, row: OutboxRow, deadline: number): Promise<void> {
    if (!isTracing()) return this.send(channel, row, deadline);
    return tracePublish(row, this.options.exchange, (trace) => this.send(channel, row, deadline, trace));
  }

  /** `trace`: the publish span's context, in the envelope (CloudEvents extension) and as AMQP headers. */
  private send(channel: ConfirmChannel, row: OutboxRow, deadline: number, trace?: TraceHeaders): Promise<void> {
    const body = Buffer.from(JSON.stringify(buildEnvelope(row, trace)));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerError(`no confirm for ${row.type} ${row.id} in time`)),
        Math.max(0, deadline - Date.now()),
      );
      try {
        channel.publish(
          this.options.exchange,
          row.type,
          body,
          {
            persistent: true,
            messageId: row.id,
            // Structured mode of CloudEvents' AMQP binding: the body is the whole event.
            contentType: CLOUDEVENTS_CONTENT_TYPE,
            contentEncoding: 'utf-8',
            type: row.type,
            appId: row.source,
            timestamp: Math.floor(row.occurredAt.getTime() / 1000),
            // Conveniences for routing and filtering without parsing the body (the binding defines
            // `cloudEvents:*` properties for binary mode only).
            headers: {
              'x-entity-key': row.entityKey,
              'x-cloudevents-specversion': CLOUDEVENTS_SPEC_VERSION,
              ...trace,
            },
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
}

export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactCredentials(message || (error instanceof Error ? error.name : 'unknown error'));
}
