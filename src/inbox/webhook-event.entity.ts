import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

export const EVENT_STATUSES = ['received', 'processing', 'processed', 'failed', 'dead'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** The inbox: one row per accepted Panora delivery (unique per endpoint and `id_event`). */
// Declared as the migrations create them, so `migration:generate` finds nothing to change.
@Entity('webhook_events')
@Unique('webhook_events_endpoint_event', ['endpointId', 'idEvent'])
@Check('webhook_events_status_check', "status IN ('received', 'processing', 'processed', 'failed', 'dead')")
@Index('webhook_events_due', ['nextAttemptAt', 'id'], { where: "status IN ('received', 'processing', 'failed')" })
@Index('webhook_events_attention', ['status', 'id'], { where: "status IN ('failed', 'dead')" })
@Index('webhook_events_prunable', ['processedAt'], { where: "status = 'processed' AND payload IS NOT NULL" })
@Index('webhook_events_type', ['normalizedType', 'id'])
@Index('webhook_events_stream', ['statusXid', 'id'])
@Index('webhook_events_endpoint_signed_hash', ['endpointId', 'signedHash'], { unique: true })
export class WebhookEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint' })
  id!: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ name: 'id_event', type: 'text' })
  idEvent!: string;

  /** As delivered, e.g. `crm.company.push`. */
  @Column({ type: 'text' })
  type!: string;

  /** What listeners subscribe to, e.g. `crm.company.created`. */
  @Column({ name: 'normalized_type', type: 'text' })
  normalizedType!: string;

  /** The parsed `data`; connection tokens sealed, Panora's access/refresh tokens dropped. */
  @Column({ type: 'jsonb', nullable: true })
  payload!: unknown;

  /**
   * SHA-256 of the text Panora signed (`JSON.stringify(data)`), unique per endpoint: the same signed
   * delivery re-sent under another id_event is recognised and answered `duplicate`. Null on rows
   * stored before replay detection.
   */
  @Column({ name: 'signed_hash', type: 'bytea', nullable: true })
  signedHash!: Buffer | null;

  @Column({ type: 'text', default: 'received' })
  status!: EventStatus;

  /** Dispatch attempts since the event was received, replays included (never reset). */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** `attempts` when the event was last replayed: WEBHOOK_MAX_ATTEMPTS and the backoff count from here. */
  @Column({ name: 'attempts_at_replay', type: 'integer', default: 0 })
  attemptsAtReplay!: number;

  /**
   * The token of the dispatcher claim holding a 'processing' event: a fresh UUID at each claim,
   * cleared when its outcome is recorded or the event is replayed. Only the holder of the current
   * claim renews its lease or records an outcome.
   */
  @Column({ name: 'claim_id', type: 'uuid', nullable: true })
  claimId!: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  /**
   * The listeners that succeeded on a first attempt that succeeded whole: such an event has no
   * `webhook_event_listeners` rows (they are written for attempts that had a failure, and after).
   */
  @Column({ name: 'listeners_succeeded', type: 'text', array: true, nullable: true })
  listenersSucceeded!: string[] | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt!: Date | null;

  /** The W3C traceparent of the receive span, while tracing is on: the dispatch spans' parent. */
  @Column({ type: 'text', nullable: true })
  traceparent!: string | null;

  /**
   * The stream position's first half: the transaction that last stored the event received,
   * processed, failed or dead (a trigger keeps it; migration 1795400001200 says why). Null on rows
   * older than the stream that have not changed since.
   */
  @Column({
    name: 'status_xid',
    type: 'bigint',
    nullable: true,
    default: () => 'webhook_events_xid()',
    select: false,
  })
  statusXid!: string | null;
}
