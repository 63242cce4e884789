import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

export const EVENT_STATUSES = ['received', 'processing', 'processed', 'failed', 'dead'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** The inbox: one row per accepted Panora delivery (unique per endpoint and `id_event`). */
// Declared as the migrations create them, so `migration:generate` finds nothing to change.
@Entity('webhook_events')
@Unique('webhook_events_endpoint_event', ['endpointId', 'idEvent'])
@Check('webhook_events_status_check', "status IN ('received', 'processing', 'processed', 'failed', 'dead')")
@Index('webhook_events_due', ['nextAttemptAt', 'id'], { where: "status IN ('received', 'processing', 'failed')" })
@Index('webhook_events_status', ['status', 'id'])
@Index('webhook_events_type', ['normalizedType', 'id'])
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

  @Column({ type: 'text', default: 'received' })
  status!: EventStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt!: Date | null;
}
