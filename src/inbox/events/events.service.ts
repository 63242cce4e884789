import { Injectable } from '@nestjs/common';
import type { BulkReplayDto, BulkReplayResult, EventDetail, EventSummary, ListEventsQuery } from './events.dto';
import { normaliseEventType } from '../../panora';
import { redactCredentials } from '../../platform/secrets';
import { InboxSignal } from '../inbox-signal';
import { InboxRepository, type EventFilter } from '../inbox.repository';
import { formatCursor } from './event-stream.service';
import { EventsErrorCode, EventsException } from './events.exception';
import type { WebhookEvent } from '../webhook-event.entity';

const DEFAULT_LIMIT = 50;
/** Shown on a listener that succeeded before, queued to run again by a replay with `all=true`. */
const REPLAYED_ALL = 'queued to run again by a replay of every listener (all=true)';

/** Reading and replaying stored events (the admin API and the CLI). */
@Injectable()
export class EventsService {
  constructor(
    private readonly inbox: InboxRepository,
    private readonly signal: InboxSignal,
  ) {}

  /** Newest first, paginated by cursor (the last id of the previous page). */
  async list(query: ListEventsQuery): Promise<{ items: EventSummary[]; nextCursor: string | null }> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows = await this.inbox.list(
      { status: query.status, type: typeFilter(query.type), endpointId: query.endpointId, cursor: query.cursor },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    return { items: page.map(summary), nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }

  async get(id: string): Promise<EventDetail> {
    const event = await this.find(id);
    const listeners = await this.inbox.listeners(event);
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
    const outcome = await this.inbox.replay(event.id, all, REPLAYED_ALL);
    if (outcome === 'pruned') throw prunedException(event.id);
    if (outcome === 'busy') {
      throw new EventsException(EventsErrorCode.Busy, 'The event is being processed right now: try again in a moment');
    }
    this.signal.notify();
    return { queued: true, id: event.id, listeners: all ? 'all' : 'unfinished' };
  }

  /**
   * Queues every event in a status (dead or failed), optionally of one type, endpoint or window of
   * reception, in one statement. Events whose payload was pruned cannot run again: they are left
   * as they are and counted as skipped. `dryRun` counts and changes nothing.
   */
  async replayMany(filter: BulkReplayDto): Promise<BulkReplayResult> {
    // Taken before the update: every later state of a queued event is in the stream after it.
    const cursor = formatCursor(await this.inbox.streamHorizon());
    const { queued, skipped, ids } = await this.inbox.replayMany({
      status: filter.status,
      type: typeFilter(filter.type),
      endpointId: filter.endpointId,
      since: filter.since ? new Date(filter.since) : undefined,
      until: filter.until ? new Date(filter.until) : undefined,
      dryRun: filter.dryRun,
    });
    if (filter.dryRun) return { queued, skipped, dryRun: true };
    if (queued === 0) return { queued, skipped };
    this.signal.notify();
    return { queued, skipped, ids, cursor };
  }

  private async find(id: string): Promise<WebhookEvent> {
    const event = await this.inbox.find(id);
    if (!event) throw new EventsException(EventsErrorCode.NotFound, `No event with id ${id.slice(0, 40)}`);
    return event;
  }
}

/** A type filter matches the type as delivered, or its normalised form. */
function typeFilter(type: string | undefined): EventFilter['type'] {
  return type ? { delivered: type, normalized: normaliseEventType(type) } : undefined;
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
