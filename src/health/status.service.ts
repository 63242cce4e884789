import { Injectable } from '@nestjs/common';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InboxRepository } from '../inbox';
import { OutboxRelay } from '../outbox';
import type { InboxStatusDto, ServiceStatusDto } from './status.dto';

/**
 * The service in one answer: readiness (the same database ping as /health/ready), the broker, the
 * inbox's backlog by status and the outbox's pending rows. Reads only; a database that does not
 * answer is part of the answer, not an error (an operator asks exactly then).
 */
@Injectable()
export class StatusService {
  constructor(
    private readonly db: TypeOrmHealthIndicator,
    private readonly relay: OutboxRelay,
    private readonly inbox: InboxRepository,
  ) {}

  async status(): Promise<ServiceStatusDto> {
    const ping = (await this.db.pingCheck('database', { timeout: 2_000 })).database as {
      status: 'up' | 'down';
      message?: string;
    };
    const { pending, error, ...broker } = await this.relay.health();
    const ready = ping.status === 'up';
    return {
      ready,
      checkedAt: new Date().toISOString(),
      database: ready ? { status: 'up' } : { status: 'down', error: ping.message },
      broker: error ? { ...broker, error } : broker,
      inbox: ready ? await this.inboxBacklog() : null,
      outbox: { pending: pending ?? null },
    };
  }

  private async inboxBacklog(): Promise<InboxStatusDto> {
    const { inbox, oldest_s } = await this.inbox.backlog();
    const count = (status: string) => inbox?.[status] ?? 0;
    return {
      received: count('received'),
      processing: count('processing'),
      failed: count('failed'),
      dead: count('dead'),
      oldestPendingSeconds: oldest_s === null ? null : Math.round(oldest_s * 10) / 10,
    };
  }
}
