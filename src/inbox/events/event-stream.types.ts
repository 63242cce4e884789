import type { EventStatus } from '../webhook-event.entity';

/** A place in the event stream: the transaction that stored a state (status_xid), then the event id. */
export interface StreamPosition {
  xid: bigint;
  id: bigint;
}

/** One event as the stream reads it (InboxRepository.streamChanges), at its position. */
export interface StreamRow {
  statusXid: string;
  id: string;
  endpointId: string;
  idEvent: string;
  type: string;
  normalizedType: string;
  status: EventStatus;
  attempts: number;
  receivedAt: Date;
  processedAt: Date | null;
  nextAttemptAt: Date;
  lastError: string | null;
}
