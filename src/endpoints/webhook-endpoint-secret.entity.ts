import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { WebhookEndpoint } from './webhook-endpoint.entity';

/**
 * One signing secret of an endpoint, sealed with the SecretBox (AES-256-GCM). An endpoint has one
 * active secret, plus the previous one during a rotation's grace period (`expiresAt` set).
 */
@Entity('webhook_endpoint_secrets')
@Index('webhook_endpoint_secrets_endpoint', ['endpointId'])
export class WebhookEndpointSecret {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  // Named, not imported: the endpoint entity imports this one, and entities must not import each other in a cycle.
  @ManyToOne('WebhookEndpoint', (endpoint: WebhookEndpoint) => endpoint.secrets, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'webhook_endpoint_secrets_endpoint_id_fkey' })
  endpoint?: WebhookEndpoint;

  @Column({ name: 'sealed_secret', type: 'text' })
  sealedSecret!: string;

  /** The last 4 characters, for telling secrets apart in the admin API. */
  @Column({ type: 'text' })
  hint!: string;

  /** The Panora endpoint this secret belongs to (rotation registers a new one). */
  @Column({ name: 'panora_endpoint_id', type: 'text', nullable: true })
  panoraEndpointId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Null while current; set when a rotation replaced it: it verifies until then. */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;
}
