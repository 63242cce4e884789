import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppException } from '../common/http-exception.filter';
import { DispatcherService } from './dispatcher.service';
import type { BulkReplayDto, EventDetail, EventSummary, ListEventsQuery } from './events.dto';
import { normaliseEventType } from './panora-event-types';
import { redactCredentials } from './payload-secrets';
import { WebhookEventListener } from './webhook-event-listener.entity';
import { WebhookEvent } from './webhook-event.entity';

const DEFAULT_LIMIT = 50;

/** Reading and replaying stored events (the admin API and the CLI). */
@Injectable()
export class EventsService {
  constructor(
    @InjectRepository(WebhookEvent) private readonly events: Repository<WebhookEvent>,
    @InjectRepository(WebhookEventListener) private readonly listeners: Repository<WebhookEventListener>,
    private readonly dispatcher: DispatcherService,
  ) {}

  /** Newest first, paginated by cursor (the last id of the previous page). */
  async list(query: ListEventsQuery): Promise<{ items: EventSummary[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const qb = this.events
      .createQueryBuilder('e')
      .orderBy('e.id', 'DESC')
      .take(limit + 1);
    if (query.status) qb.andWhere('e.status = :status', { status: query.status });
    if (query.type)
      qb.andWhere('(e.normalized_type = :normalized OR e.type = :type)', {
        normalized: normaliseEventType(query.type),
        type: query.type,
      });
    if (query.endpointId) qb.andWhere('e.endpoint_id = :endpointId', { endpointId: query.endpointId });
    if (query.cursor) qb.andWhere('e.id < :cursor', { cursor: query.cursor });
    qb.select([
      'e.id',
      'e.endpointId',
      'e.idEvent',
      'e.type',
      'e.normalizedType',
      'e.status',
      'e.attempts',
      'e.receivedAt',
      'e.processedAt',
      'e.nextAttemptAt',
      'e.lastError',
    ]);
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    return { items: page.map(summary), nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }

  async get(id: string): Promise<EventDetail> {
    const event = await this.find(id);
    const listeners = await this.listeners.find({ where: { eventId: event.id }, order: { listener: 'ASC' } });
    return {
      ...summary(event),
      payload: redactCredentials(event.payload),
      listeners: listeners.map((l) => ({
        listener: l.listener,
        status: l.status,
        attempts: l.attempts,
        lastError: l.lastError,
        updatedAt: l.updatedAt,
      })),
    };
  }

  /** Queues the event again: its failed or dead listeners run (every listener with `all`). */
  async replay(id: string, all = false): Promise<{ queued: true; id: string; listeners: 'all' | 'unfinished' }> {
    const event = await this.find(id);
    await this.events.manager.transaction(async (manager) => {
      const [updated]: [unknown[], number] = await manager.query(
        `UPDATE webhook_events SET status = 'received', attempts = 0, next_attempt_at = now(), last_error = NULL, processed_at = NULL
          WHERE id = $1 AND NOT (status = 'processing' AND next_attempt_at > now()) RETURNING id`,
        [event.id],
      );
      if (updated.length === 0) {
        throw new AppException(
          HttpStatus.CONFLICT,
          'The event is being processed right now: try again in a moment',
          'EVENT_BUSY',
        );
      }
      if (all) await manager.query('DELETE FROM webhook_event_listeners WHERE event_id = $1', [event.id]);
    });
    this.dispatcher.wake();
    return { queued: true, id: event.id, listeners: all ? 'all' : 'unfinished' };
  }

  /** Queues every event in a status (dead or failed), optionally of one type or endpoint. */
  async replayMany(filter: BulkReplayDto): Promise<{ queued: number }> {
    const params: unknown[] = [filter.status];
    let where = 'status = $1';
    if (filter.type) {
      params.push(normaliseEventType(filter.type), filter.type);
      where += ` AND (normalized_type = $${params.length - 1} OR type = $${params.length})`;
    }
    if (filter.endpointId) {
      params.push(filter.endpointId);
      where += ` AND endpoint_id = $${params.length}`;
    }
    const [, count]: [unknown[], number] = await this.events.manager.query(
      `UPDATE webhook_events SET status = 'received', attempts = 0, next_attempt_at = now(), last_error = NULL WHERE ${where} RETURNING id`,
      params,
    );
    this.dispatcher.wake();
    return { queued: count };
  }

  private async find(id: string): Promise<WebhookEvent> {
    const event = /^\d{1,19}$/.test(id) ? await this.events.findOne({ where: { id } }) : null;
    if (!event) throw new AppException(HttpStatus.NOT_FOUND, `No event with id ${id.slice(0, 40)}`, 'EVENT_NOT_FOUND');
    return event;
  }
}

function summary(e: WebhookEvent): EventSummary {
  return {
    id: e.id,
    endpointId: e.endpointId,
    idEvent: e.idEvent,
    type: e.type,
    normalizedType: e.normalizedType,
    status: e.status,
    attempts: e.attempts,
    receivedAt: e.receivedAt,
    processedAt: e.processedAt,
    nextAttemptAt: e.status === 'failed' ? e.nextAttemptAt : null,
    lastError: e.lastError,
  };
}
