import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { BulkReplayDto, EventDetail, EventSummary, ListEventsQuery } from './events.dto';
import { normaliseEventType } from '../../panora';
import { redactCredentials } from '../../platform/secrets';
import { InboxSignal } from '../inbox-signal';
import { EventsErrorCode, EventsException } from './events.exception';
import { WebhookEventListener } from '../webhook-event-listener.entity';
import { WebhookEvent } from '../webhook-event.entity';

const DEFAULT_LIMIT = 50;
/** Shown on a listener that succeeded before, queued to run again by a replay with `all=true`. */
const REPLAYED_ALL = 'queued to run again by a replay of every listener (all=true)';

/** Reading and replaying stored events (the admin API and the CLI). */
@Injectable()
export class EventsService {
  constructor(
    @InjectRepository(WebhookEvent) private readonly events: Repository<WebhookEvent>,
    @InjectRepository(WebhookEventListener) private readonly listeners: Repository<WebhookEventListener>,
    private readonly signal: InboxSignal,
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

  /**
   * Queues the event again: its failed or dead listeners run (every listener with `all`). Not an
   * event being processed right now, nor one whose payload was pruned (INBOX_RETENTION_DAYS):
   * its listeners would run on nothing and drive it to dead.
   *
   * Counts go on: the event's `attempts` and each listener's keep counting across replays (so a
   * listener never shows more attempts than its event); the replay gives the event a fresh retry
   * budget (WEBHOOK_MAX_ATTEMPTS counts from `attempts_at_replay`). It also ends any claim on the
   * event (`claim_id`): a dispatcher whose lease ran out can no longer record an outcome for it.
   */
  async replay(id: string, all = false): Promise<{ queued: true; id: string; listeners: 'all' | 'unfinished' }> {
    const event = await this.find(id);
    await this.events.manager.transaction(async (manager) => {
      const [updated]: [unknown[], number] = await manager.query(
        `UPDATE webhook_events
            SET status = 'received', attempts_at_replay = attempts, claim_id = NULL, next_attempt_at = now(),
                last_error = NULL, processed_at = NULL
          WHERE id = $1 AND payload IS NOT NULL AND NOT (status = 'processing' AND next_attempt_at > now()) RETURNING id`,
        [event.id],
      );
      if (updated.length === 0) {
        const [row] = await manager.query<{ pruned: boolean }[]>(
          'SELECT payload IS NULL AS pruned FROM webhook_events WHERE id = $1',
          [event.id],
        );
        if (row?.pruned) throw prunedException(event.id);
        throw new EventsException(
          EventsErrorCode.Busy,
          'The event is being processed right now: try again in a moment',
        );
      }
      // Every listener runs again: the ones that succeeded are marked unfinished (rows kept, counts go on).
      if (all) {
        await manager.query(
          `UPDATE webhook_event_listeners SET status = 'failed', last_error = $2, updated_at = now()
            WHERE event_id = $1 AND status = 'succeeded'`,
          [event.id, REPLAYED_ALL],
        );
      }
    });
    this.signal.notify();
    return { queued: true, id: event.id, listeners: all ? 'all' : 'unfinished' };
  }

  /**
   * Queues every event in a status (dead or failed), optionally of one type or endpoint. Events
   * whose payload was pruned cannot run again: they are left as they are and counted as skipped.
   */
  async replayMany(filter: BulkReplayDto): Promise<{ queued: number; skipped: number }> {
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
    const [{ queued, skipped }] = await this.events.manager.query<{ queued: number; skipped: number }[]>(
      `WITH matching AS (SELECT id, payload IS NULL AS pruned FROM webhook_events WHERE ${where}),
            queued AS (
              UPDATE webhook_events
                 SET status = 'received', attempts_at_replay = attempts, claim_id = NULL, next_attempt_at = now(),
                     last_error = NULL
               WHERE id IN (SELECT id FROM matching WHERE NOT pruned) AND payload IS NOT NULL AND ${where}
               RETURNING id)
       SELECT (SELECT count(*) FROM queued)::int AS queued,
              (SELECT count(*) FROM matching WHERE pruned)::int AS skipped`,
      params,
    );
    this.signal.notify();
    return { queued, skipped };
  }

  private async find(id: string): Promise<WebhookEvent> {
    const event = /^\d{1,19}$/.test(id) ? await this.events.findOne({ where: { id } }) : null;
    if (!event) throw new EventsException(EventsErrorCode.NotFound, `No event with id ${id.slice(0, 40)}`);
    return event;
  }
}

function prunedException(id: string): EventsException {
  return new EventsException(
    EventsErrorCode.PayloadPruned,
    `Event ${id} cannot be replayed: its payload was pruned after the retention period (INBOX_RETENTION_DAYS)`,
  );
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
