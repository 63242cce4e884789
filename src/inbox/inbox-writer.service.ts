import { Injectable } from '@nestjs/common';
import { isTracing } from '../platform/tracing';
import { traceInboxWrite } from './inbox-tracing';
import { InboxRepository, type InboxRow } from './inbox.repository';

export type { InboxRow } from './inbox.repository';

export interface InboxResult {
  /**
   * False when the same (endpoint, id_event), or the same signed text under another id_event (a
   * replay), was already stored for the endpoint: nothing new was written.
   */
  inserted: boolean;
}

/** A payload PostgreSQL refused as jsonb (not JSON, or a \u0000 in a string): the sender's fault. */
export class InboxDataError extends Error {}

interface Pending {
  row: InboxRow;
  resolve: (result: InboxResult) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 256;
/** Payload characters per statement (at least one delivery): a few large `*.pulled` go alone. */
const MAX_BATCH_CHARS = 4 * 1024 * 1024;
/**
 * One insert at a time: the deliveries that arrive meanwhile go together in the next one. Measured
 * with `npm run bench` (50 connections, 1.8 KB deliveries): ~5,500/s with one in flight against
 * ~4,600/s with four, and less PostgreSQL CPU (bigger batches, fewer commits).
 */
const MAX_IN_FLIGHT = 1;

/**
 * Writes accepted deliveries to the inbox with group commit: while an insert is running, new
 * deliveries queue up and go in together in the next statement. At low load a
 * delivery is inserted at once (no waiting window); under load one fsync serves many requests.
 * Each caller's promise resolves only after its row's transaction has committed.
 */
@Injectable()
export class InboxWriter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;

  constructor(private readonly repository: InboxRepository) {}

  /** When the last delivery was handed in (ms since the epoch; 0: none yet). */
  lastWriteAt = 0;

  write(row: InboxRow): Promise<InboxResult> {
    this.lastWriteAt = Date.now();
    return isTracing() ? traceInboxWrite(row, (traced) => this.enqueue(traced)) : this.enqueue(row);
  }

  private enqueue(row: InboxRow): Promise<InboxResult> {
    return new Promise<InboxResult>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      let take = 0;
      let chars = 0;
      while (take < this.queue.length && take < MAX_BATCH) {
        chars += this.queue[take].row.payloadJson.length;
        if (take > 0 && chars > MAX_BATCH_CHARS) break;
        take++;
      }
      const batch = this.queue.splice(0, take);
      this.inFlight++;
      void this.insert(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async insert(batch: Pending[], retried = false): Promise<void> {
    try {
      const inserted = await this.run(batch.map((p) => p.row));
      settle(batch, inserted);
    } catch (error) {
      if (!retried && isConnectTimeout(error)) {
        // No query was sent. A timer that fired late (the event loop was busy past the timeout
        // while the connection was in fact being made, or clients were all busy) is not an outage:
        // one more try tells them apart, so a delivery that can be stored is not answered 503.
        await this.insert(batch, true);
        return;
      }
      if (batch.length > 1 && isDataError(error)) {
        // One bad payload must not fail the others: retry them one by one.
        await Promise.all(batch.map((pending) => this.insert([pending])));
        return;
      }
      const failure = isDataError(error) ? new InboxDataError(describeDataError(error)) : error;
      for (const pending of batch) pending.reject(failure);
    }
  }

  /** One statement for the batch (InboxRepository.insertEvents): the keys of the rows it inserted. */
  private async run(rows: InboxRow[]): Promise<Set<string>> {
    const inserted = await this.repository.insertEvents(rows);
    return new Set(inserted.map((r) => key(r.endpoint_id, r.id_event)));
  }
}

const key = (endpointId: string, idEvent: string) => `${endpointId}\u0000${idEvent}`;

/** The first caller of a (endpoint, id_event) in the batch gets the insert; any other, duplicate. */
function settle(batch: Pending[], inserted: Set<string>): void {
  for (const pending of batch) {
    const k = key(pending.row.endpointId, pending.row.idEvent);
    pending.resolve({ inserted: inserted.delete(k) });
  }
}

/**
 * pg-pool's timeouts before any query is sent: waiting for a free client, or making a new
 * connection. The database may be fine; only a second one in a row says it did not answer.
 */
function isConnectTimeout(error: unknown): boolean {
  const message = (error as { message?: unknown })?.message;
  return (
    typeof message === 'string' &&
    /^(timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/.test(message)
  );
}

/** SQLSTATE class 22 (data exception) or 54 (program limit, e.g. nesting too deep). */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

function describeDataError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === '22P05') return 'data holds a \\u0000 character, which PostgreSQL cannot store in JSON';
  if (code?.startsWith('54')) return 'data is too large or too deeply nested to store';
  return 'data is not valid JSON';
}
