import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { WebhookEvent } from './webhook-event.entity';

export type ListenerStatus = 'succeeded' | 'failed' | 'dead';

/** The outcome of one listener for one event: what lets a retry skip listeners that succeeded. */
@Entity('webhook_event_listeners')
@Check('webhook_event_listeners_status_check', "status IN ('succeeded', 'failed', 'dead')")
export class WebhookEventListener {
  @PrimaryColumn({ name: 'event_id', type: 'bigint' })
  eventId!: string;

  @ManyToOne(() => WebhookEvent, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'webhook_event_listeners_event_id_fkey' })
  event?: WebhookEvent;

  @PrimaryColumn({ type: 'text' })
  listener!: string;

  @Column({ type: 'text' })
  status!: ListenerStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
