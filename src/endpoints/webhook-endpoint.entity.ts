import {
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { WebhookEndpointSecret } from './webhook-endpoint-secret.entity';

/** A receiving endpoint: our URL `/webhooks/panora/<id>`, tied to an endpoint registered at Panora. */
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Panora's `id_webhook_endpoint` (the current one, after rotations). */
  @Column({ name: 'panora_endpoint_id', type: 'text', nullable: true, unique: true })
  panoraEndpointId!: string | null;

  /** The URL registered at Panora. */
  @Column({ type: 'text', nullable: true })
  url!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scope!: string[];

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Column({ name: 'id_project', type: 'text', nullable: true })
  idProject!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** Deleted endpoints are kept (their events still point at them) but never verify again. */
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz' })
  deletedAt!: Date | null;

  /**
   * Set while a registration change (create, rotate, enable/disable, delete) is in progress: the
   * change that set it is the only one allowed to write the endpoint (endpoint-change-lock.ts).
   */
  @Column({ name: 'change_token', type: 'uuid', nullable: true, select: false })
  changeToken!: string | null;

  @Column({ name: 'change_started_at', type: 'timestamptz', nullable: true, select: false })
  changeStartedAt!: Date | null;

  @OneToMany(() => WebhookEndpointSecret, (secret) => secret.endpoint)
  secrets?: WebhookEndpointSecret[];
}
