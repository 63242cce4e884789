import { Column, Entity, PrimaryColumn } from 'typeorm';

export type ListenerStatus = 'succeeded' | 'failed' | 'dead';

/** The outcome of one listener for one event: what lets a retry skip listeners that succeeded. */
@Entity('webhook_event_listeners')
export class WebhookEventListener {
  @PrimaryColumn({ name: 'event_id', type: 'bigint' })
  eventId!: string;

  @PrimaryColumn({ type: 'text' })
  listener!: string;

  @Column({ type: 'text' })
  status!: ListenerStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
