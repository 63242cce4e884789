import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A Panora connection of one of the app's end-users, as caught from `connection.created`. */
@Entity('connections')
@Check('connections_source_check', "source IN ('webhook', 'reconciliation')")
@Index('connections_linked_user', ['idLinkedUser'])
@Index('connections_origin', ['linkedUserOriginId'])
@Index('connections_provider', ['providerSlug', 'vertical'])
export class Connection {
  @PrimaryColumn({ name: 'id_connection', type: 'text' })
  idConnection!: string;

  @Column({ name: 'provider_slug', type: 'text', nullable: true })
  providerSlug!: string | null;

  @Column({ type: 'text', nullable: true })
  vertical!: string | null;

  @Column({ type: 'text', nullable: true })
  status!: string | null;

  @Column({ name: 'account_url', type: 'text', nullable: true })
  accountUrl!: string | null;

  @Column({ name: 'id_project', type: 'text', nullable: true })
  idProject!: string | null;

  /** Panora's linked user. */
  @Column({ name: 'id_linked_user', type: 'text', nullable: true })
  idLinkedUser!: string | null;

  /** The app's own end-user id (`linked_user_origin_id` of the linked user). */
  @Column({ name: 'linked_user_origin_id', type: 'text', nullable: true })
  linkedUserOriginId!: string | null;

  /** The connection token, sealed (AES-256-GCM). Never listed, never logged. */
  @Column({ name: 'sealed_connection_token', type: 'text', nullable: true, select: false })
  sealedConnectionToken!: string | null;

  /** Last 4 characters of the token, to tell tokens apart. */
  @Column({ name: 'token_hint', type: 'text', nullable: true })
  tokenHint!: string | null;

  @Column({ name: 'panora_created_at', type: 'timestamptz', nullable: true })
  panoraCreatedAt!: Date | null;

  @Column({ type: 'text' })
  source!: 'webhook' | 'reconciliation';

  /**
   * Where the row stands in its history: the inbox id of the newest `connection.created` applied
   * (changed or not), or the inbox position a reconciliation read Panora at. An older write
   * changes nothing (ConnectionsService.upsert).
   */
  @Column({ name: 'last_event_id', type: 'bigint', nullable: true })
  lastEventId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
