import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { PgNotifications } from '../../platform/database';
import { InboxSignal } from '../inbox-signal';
import { type EventFilter, INBOX_CHANNEL, InboxRepository } from '../inbox.repository';
import type { EventSummary } from './events.dto';
import type { StreamPosition, StreamRow } from './event-stream.types';

/** How often the stream looks for status changes no signal announces (the dispatcher's outcomes). */
export const STREAM_POLL_MS = 1_000;
/** A comment this often keeps proxies and load balancers from closing a quiet stream. */
export const STREAM_HEARTBEAT_MS = 15_000;
/** Rows per query: a subscriber resuming far back catches up in pages, between live rounds. */
const PAGE = 500;
/** A subscriber that stops reading is dropped past this much unsent output; it resumes by its last id. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** `812345-1042`: the cursor an SSE message's `id:` carries, and `Last-Event-ID` / `since` give back. */
export const CURSOR_PATTERN = /^\d{1,19}-\d{1,19}$/;
export const formatCursor = (p: StreamPosition) => `${p.xid}-${p.id}`;
export function parseCursor(cursor: string): StreamPosition {
  const [xid, id] = cursor.split('-');
  return { xid: BigInt(xid), id: BigInt(id) };
}
const after = (a: StreamPosition, b: StreamPosition) => a.xid > b.xid || (a.xid === b.xid && a.id > b.id);
const latest = (a: StreamPosition, b: StreamPosition) => (after(a, b) ? a : b);

/** Where a subscriber's messages go: the route writes them to its response. */
export interface StreamSink {
  /** Writes text; answers how much is buffered and not yet sent. */
  write(text: string): number;
  end(): void;
}

interface Subscriber {
  filter: EventFilter;
  sink: StreamSink;
  /** Everything up to here that matches the filter was written. */
  cursor: StreamPosition;
  /** Caught up with the shared round: live rows are written to it as they are read. */
  live: boolean;
  /** No cursor given: it starts at the shared position, whatever it is when its first round runs. */
  fromNow: boolean;
}

/**
 * The live stream of events behind `GET /admin/events/stream`: one poller for every subscriber
 * of this instance, woken by the inbox (this instance's deliveries and replays, the other
 * instances' through PostgreSQL's notification) and every STREAM_POLL_MS for the dispatchers'
 * outcomes. A live round reads the changes after the shared position once, without filters, and
 * hands each subscriber what matches its own; a subscriber resuming from an older cursor first
 * catches up with its own filtered queries, up to the shared position, then joins.
 *
 * Guarantee: an event stored received, processed, failed or dead after a subscriber's cursor
 * reaches it, at that state or a later one (an event received and processed between two rounds
 * may arrive once, as processed); a cursor is never passed over a change that could still commit
 * behind it, so resuming from the last id seen misses nothing and repeats nothing.
 */
@Injectable()
export class EventStream implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStream.name);
  private readonly subscribers = new Set<Subscriber>();
  /** Every change up to here was handed to the live subscribers; unset while nobody listens. */
  private position?: StreamPosition;
  private running = false;
  private again = false;
  private closed = false;
  private pollTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private unsubscribeSignal?: () => void;
  private listening = false;

  constructor(
    private readonly repository: InboxRepository,
    private readonly signal: InboxSignal,
    private readonly notifications: PgNotifications,
  ) {}

  get accepting(): boolean {
    return !this.closed;
  }

  /** Starts streaming to `sink` from `since` (a cursor), or from now; answers how to stop. */
  subscribe(sink: StreamSink, filter: EventFilter, since?: StreamPosition): () => void {
    const subscriber: Subscriber = { sink, filter, cursor: since ?? { xid: 0n, id: 0n }, live: false, fromNow: !since };
    this.subscribers.add(subscriber);
    this.start();
    this.wake();
    return () => this.drop(subscriber, false);
  }

  beforeApplicationShutdown(): void {
    // Open streams would hold the HTTP server's close (and the graceful shutdown) forever.
    this.closed = true;
    for (const subscriber of [...this.subscribers]) this.drop(subscriber, true);
    this.stop();
  }

  private start(): void {
    if (this.pollTimer) return;
    if (!this.listening) {
      // Other instances' deliveries; subscribed once (PgNotifications has no unsubscribe).
      this.notifications.subscribe(INBOX_CHANNEL, () => this.wake());
      this.listening = true;
    }
    this.unsubscribeSignal = this.signal.subscribe(() => this.wake());
    this.pollTimer = setInterval(() => this.wake(), STREAM_POLL_MS);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), STREAM_HEARTBEAT_MS);
    this.pollTimer.unref();
    this.heartbeatTimer.unref();
  }

  private stop(): void {
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    this.pollTimer = this.heartbeatTimer = undefined;
    this.unsubscribeSignal?.();
    this.position = undefined;
  }

  private drop(subscriber: Subscriber, end: boolean): void {
    if (!this.subscribers.delete(subscriber)) return;
    if (end) subscriber.sink.end();
    if (this.subscribers.size === 0) this.stop();
  }

  private wake(): void {
    this.again = true;
    if (this.running || this.closed) return;
    this.running = true;
    void this.rounds().finally(() => (this.running = false));
  }

  private async rounds(): Promise<void> {
    while (this.again && this.subscribers.size > 0 && !this.closed) {
      this.again = false;
      try {
        await this.round();
      } catch (error) {
        // The database may be away for a moment: the next poll tries again; streams stay open.
        this.logger.warn(`Event stream round failed: ${(error as Error).message}`);
        return;
      }
    }
  }

  private async round(): Promise<void> {
    this.position ??= await this.repository.streamHorizon();
    const shared = this.position;
    for (const subscriber of this.subscribers) {
      if (subscriber.live) continue;
      const s = subscriber;
      if (s.fromNow || !after(shared, s.cursor)) {
        s.fromNow = false;
        s.cursor = latest(s.cursor, shared);
        s.live = true;
        continue;
      }
      const rows = await this.repository.streamChanges(s.cursor, shared, PAGE, s.filter);
      for (const row of rows) this.send(s, row);
      if (rows.length < PAGE) {
        s.cursor = shared;
        s.live = true;
      } else {
        this.again = true;
      }
    }
    const horizon = await this.repository.streamHorizon();
    const rows = await this.repository.streamChanges(shared, horizon, PAGE, {});
    for (const row of rows) {
      for (const subscriber of this.subscribers) {
        if (subscriber.live && after(position(row), subscriber.cursor) && matches(subscriber.filter, row)) {
          this.send(subscriber, row);
        }
      }
    }
    const reached = rows.length === PAGE ? position(rows[rows.length - 1]) : latest(horizon, shared);
    if (rows.length === PAGE) this.again = true;
    this.position = reached;
    for (const subscriber of this.subscribers)
      if (subscriber.live) subscriber.cursor = latest(subscriber.cursor, reached);
  }

  private send(subscriber: Subscriber, row: StreamRow): void {
    subscriber.cursor = position(row);
    const buffered = subscriber.sink.write(
      `id: ${formatCursor(position(row))}\nevent: ${row.status}\ndata: ${JSON.stringify(summary(row))}\n\n`,
    );
    if (buffered > MAX_BUFFERED_BYTES) {
      this.logger.warn('Event stream subscriber not reading: stream closed (it resumes from its last id)');
      this.drop(subscriber, true);
    }
  }

  /**
   * A comment, and for a live subscriber its position as an `id:` with no data: a client that saw
   * no matching event for hours resumes from here, not from its last event (the spec's
   * EventSource records the id of a message without data, and dispatches nothing).
   */
  private heartbeat(): void {
    for (const subscriber of this.subscribers) {
      subscriber.sink.write(
        subscriber.live ? `: heartbeat\nid: ${formatCursor(subscriber.cursor)}\n\n` : ': heartbeat\n\n',
      );
    }
  }
}

const position = (row: StreamRow): StreamPosition => ({ xid: BigInt(row.statusXid), id: BigInt(row.id) });

function matches(filter: EventFilter, row: StreamRow): boolean {
  if (filter.status && row.status !== filter.status) return false;
  if (filter.endpointId && row.endpointId !== filter.endpointId) return false;
  if (filter.type && row.normalizedType !== filter.type.normalized && row.type !== filter.type.delivered) return false;
  return true;
}

/** What GET /admin/events lists for an event (never its payload). */
function summary(row: StreamRow): EventSummary {
  return {
    id: row.id,
    endpointId: row.endpointId,
    idEvent: row.idEvent,
    type: row.type,
    normalizedType: row.normalizedType,
    status: row.status,
    attempts: row.attempts,
    receivedAt: row.receivedAt,
    processedAt: row.processedAt,
    nextAttemptAt: row.status === 'failed' ? row.nextAttemptAt : null,
    lastError: row.lastError,
  };
}
