import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client, type ClientConfig } from 'pg';
import { DataSource } from 'typeorm';

type Handler = (payload: string) => void;

const RECONNECT_MAX_MS = 10_000;

/**
 * One dedicated connection that LISTENs to PostgreSQL notifications, shared by everything that
 * wants to hear about other instances' writes (new inbox rows, changed endpoints). Reconnects with
 * backoff; subscribers get `onReconnect` so they can catch up on what they missed.
 */
@Injectable()
export class PgNotifications implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PgNotifications.name);
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHandlers = new Set<() => void>();
  private client?: Client;
  private closed = false;
  private retryMs = 250;
  private timer?: NodeJS.Timeout;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }

  subscribe(channel: string, handler: Handler): void {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
    const existing = this.handlers.get(channel);
    if (existing) {
      existing.add(handler);
      return;
    }
    this.handlers.set(channel, new Set([handler]));
    void this.client?.query(`LISTEN ${channel}`).catch(() => undefined);
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.add(handler);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const options = this.dataSource.options as { url?: string; applicationName?: string };
    const config: ClientConfig = {
      connectionString: options.url,
      application_name: `${options.applicationName ?? 'panora-webhooks'}:listen`,
    };
    const client = new Client(config);
    client.on('notification', (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    client.on('error', () => this.scheduleReconnect(client));
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
      if (this.closed) {
        await client.end();
        return;
      }
      const wasReconnect = this.client !== undefined;
      this.client = client;
      this.retryMs = 250;
      if (wasReconnect) this.logger.log('Notification connection re-established');
      for (const handler of this.reconnectHandlers) handler();
    } catch {
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: Client): void {
    if (this.closed || (this.client && this.client !== client) || this.timer?.hasRef()) return;
    client.removeAllListeners();
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
  }
}
