import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { activeTraceparent, isTracing } from '../platform/tracing';
import { assertEntityKey, assertEventType, DEFAULT_EVENT_SOURCE } from './envelope';
import { OutboxContracts } from './outbox-contracts';
import { OutboxRepository } from './outbox.repository';

/** One event for the sibling services. */
export interface OutboxMessageInput {
  /** The event name, published as the routing key: `connections.connection.created`. */
  type: string;
  /** The entity it is about (`connection:<id>`): one key's events are published in commit order. */
  key: string;
  /** The envelope's `data`: anything JSON can hold. */
  data: unknown;
  /** Defaults to `panora-webhooks`. */
  source?: string;
  /** When the state change happened; defaults to now. */
  occurredAt?: Date;
  /**
   * The message id (the AMQP `message_id` consumers dedupe on); a random UUID when unset. Give a
   * stable one for an event that may be enqueued again (a listener re-run after a crash): a row
   * with that id already in the outbox makes the repeat a no-op.
   */
  id?: string;
  /** True for an event recovery made from Panora's API: the envelope says `"recovered": true`. */
  recovered?: boolean;
}

/**
 * Writes events to the transactional outbox. Callers pass the EntityManager of the transaction
 * that makes the state change, so the change and its event commit (or roll back) together; the
 * relay publishes them afterwards. Nothing is published from here.
 */
@Injectable()
export class OutboxService {
  constructor(
    private readonly repository: OutboxRepository,
    private readonly contracts: OutboxContracts,
  ) {}

  /**
   * Inserts the message(s) in the caller's transaction and asks the relay to wake once it commits.
   * Call it after the state change: it takes a per-key lock (until commit) that keeps one key's
   * rows in commit order, and taking it before the entity's own row lock invites deadlocks.
   *
   * Each message's `data` is checked against the contract of its routing key (src/contracts): a
   * violation throws under tests, and is logged and counted otherwise (the event is still written).
   *
   * @throws when `manager` is not inside a transaction, or a message has an invalid type or key, or
   *   data that JSON cannot hold; under tests, when a message breaks its contract.
   */
  async enqueue(manager: EntityManager, message: OutboxMessageInput | readonly OutboxMessageInput[]): Promise<void> {
    const messages: readonly OutboxMessageInput[] = isList(message) ? message : [message];
    if (messages.length === 0) return;
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(
        'OutboxService.enqueue needs the EntityManager of an open transaction (manager.transaction(...))',
      );
    }
    const now = new Date();
    // The current span (a listener's) is the parent of each message's publish span.
    const traceparent = isTracing() ? activeTraceparent() : null;
    const rows = messages.map((m) => toRow(m, now, traceparent));
    rows.forEach((row, i) => this.contracts.check(row.type, row.dataJson, messages[i].data ?? null));

    await this.repository.enqueue(
      manager,
      [...new Set(rows.map((row) => row.key))],
      `[${rows.map(rowJson).join(',')}]`,
    );
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isList(message: OutboxMessageInput | readonly OutboxMessageInput[]): message is readonly OutboxMessageInput[] {
  return Array.isArray(message);
}

interface Row {
  id?: string;
  type: string;
  key: string;
  source: string;
  /** `data` serialised once, here: spliced as is into the statement's JSON. */
  dataJson: string;
  occurredAt: string;
  recovered?: true;
  traceparent?: string;
}

/** The row as JSON, its `data` spliced in as already serialised (type, key… are never empty). */
function rowJson({ dataJson, ...fields }: Row): string {
  return `${JSON.stringify(fields).slice(0, -1)},"data":${dataJson}}`;
}

function toRow(message: OutboxMessageInput, now: Date, traceparent: string | null): Row {
  assertEventType(message.type);
  assertEntityKey(message.key);
  const source = message.source ?? DEFAULT_EVENT_SOURCE;
  if (typeof source !== 'string' || source.length === 0 || source.length > 200) {
    throw new Error('Invalid event source: expected a non-empty string of at most 200 characters');
  }
  const occurredAt = message.occurredAt ?? now;
  if (!(occurredAt instanceof Date) || Number.isNaN(occurredAt.getTime())) {
    throw new Error(`Invalid occurredAt for event ${message.type}: expected a valid Date`);
  }
  // Serialised now, so a value JSON cannot hold fails here, in the caller's transaction, rather
  // than at publish time.
  let dataJson: string | undefined;
  try {
    dataJson = JSON.stringify(message.data ?? null);
  } catch (error) {
    throw new Error(`Data of event ${message.type} cannot be serialised as JSON: ${(error as Error).message}`);
  }
  if (dataJson === undefined) {
    throw new Error(`Data of event ${message.type} cannot be serialised as JSON`);
  }
  if (message.id !== undefined && !UUID.test(message.id)) {
    throw new Error(`Invalid id for event ${message.type}: expected a UUID`);
  }
  return {
    id: message.id,
    type: message.type,
    key: message.key,
    source,
    dataJson,
    occurredAt: occurredAt.toISOString(),
    ...(message.recovered ? { recovered: true as const } : {}),
    ...(traceparent ? { traceparent } : {}),
  };
}
