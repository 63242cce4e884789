import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One event waiting for (or done with) the broker. Written by `OutboxService.enqueue` in the
 * transaction of the state change it announces; the relay publishes it and sets `publishedAt`
 * only after the broker confirmed it; the pruner deletes it after the retention period.
 */
@Entity('outbox_messages')
@Index('outbox_messages_pending_key', ['entityKey', 'seq'], { where: 'published_at IS NULL' })
@Index('outbox_messages_pending', ['seq'], { where: 'published_at IS NULL' })
@Index('outbox_messages_published', ['publishedAt'], { where: 'published_at IS NOT NULL' })
export class OutboxMessage {
  /** The AMQP `message_id` and the envelope's `id`: what consumers dedupe on. */
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Insertion order; a key's rows are published in this order (= commit order, see enqueue). */
  @Column({ type: 'bigint', generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq!: string;

  /** The event name, published as the routing key. */
  @Column({ type: 'text' })
  type!: string;

  /** Partition key (`connection:<id>`): one key's events are published in order. */
  @Column({ name: 'entity_key', type: 'text' })
  entityKey!: string;

  @Column({ type: 'text' })
  source!: string;

  /** The envelope's `data`. */
  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  /** Made by recovery from Panora's API, its webhook never having arrived: the envelope says so. */
  @Column({ type: 'boolean', default: false })
  recovered!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** Set once the broker confirmed the message; null while it waits. */
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  /** Publish attempts so far. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** A relay is publishing the row until then; past it, another relay may take it again. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'locked_by', type: 'text', nullable: true })
  lockedBy!: string | null;

  /** The W3C traceparent of the span that enqueued it, while tracing is on: its publish span's parent. */
  @Column({ type: 'text', nullable: true })
  traceparent!: string | null;
}
