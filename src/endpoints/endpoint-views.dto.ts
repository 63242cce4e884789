import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answers of the endpoints admin API: an endpoint as shown, and what a change did. */
/** A secret as the admin API shows it: never the value, only its last 4 characters. */
export class SecretView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ description: 'The last 4 characters of the secret', example: 'aa4f' })
  hint!: string;

  @ApiProperty({ type: String, nullable: true, description: "Panora's endpoint id the secret came with" })
  panoraEndpointId!: string | null;

  @ApiProperty()
  createdAt!: Date;

  /** Null for the current secret; the end of its grace period for a replaced one. */
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'Null for the current secret; the end of its grace period for a replaced one',
  })
  expiresAt!: Date | null;
}

export class EndpointView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: "Panora's id_webhook_endpoint" })
  panoraEndpointId!: string | null;

  /** The URL registered at Panora. */
  @ApiProperty({ type: String, nullable: true, description: 'The URL registered at Panora' })
  url!: string | null;

  /** Where this service receives the endpoint's deliveries: the URL to give Panora. */
  @ApiProperty({ description: "Where this service receives the endpoint's deliveries: the URL to give Panora" })
  receiveUrl!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ type: [String], example: ['connection.created'] })
  scope!: string[];

  @ApiProperty()
  active!: boolean;

  @ApiProperty({ type: String, nullable: true, description: "Panora's project id" })
  idProject!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  @ApiProperty({ type: Date, nullable: true })
  deletedAt!: Date | null;

  @ApiProperty({ type: [SecretView] })
  secrets!: SecretView[];
}

export class EndpointResult extends EndpointView {
  /** E.g. scopes overlapping another active endpoint (Panora delivers to only one of them). */
  @ApiProperty({
    type: [String],
    description: 'E.g. scopes overlapping another active endpoint (Panora delivers an event to only one of them)',
  })
  warnings!: string[];
}

/** What an import did: made an endpoint, or updated the one already holding its Panora id. */
export type ImportOutcome = 'created' | 'secret_replaced' | 'updated' | 'unchanged';

export class ImportResult extends EndpointResult {
  @ApiProperty({
    enum: ['created', 'secret_replaced', 'updated', 'unchanged'],
    description:
      '`created`: a new endpoint. Imported again with the same id_webhook_endpoint: ' +
      '`secret_replaced`, the secret given is current and the previous one verifies until ' +
      '`previousSecretExpiresAt`; `updated`, same secret, scope or url replaced; `unchanged`, nothing to do',
  })
  outcome!: ImportOutcome;

  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'When `secret_replaced`: until then, deliveries signed with the previous secret still verify',
  })
  previousSecretExpiresAt!: Date | null;
}

export class RotationInfo {
  @ApiProperty()
  previousPanoraEndpointId!: string;

  @ApiProperty()
  newPanoraEndpointId!: string;

  /** Until then, deliveries signed with the previous secret still verify. */
  @ApiProperty({ description: 'Until then, deliveries signed with the previous secret still verify' })
  previousSecretExpiresAt!: Date;

  /** False when Panora refused to disable the previous endpoint: disable it by hand. */
  @ApiProperty({ description: 'False when Panora refused to disable the previous endpoint: disable it by hand' })
  previousDisabledAtPanora!: boolean;

  @ApiPropertyOptional()
  error?: string;
}

export class RotationResult extends EndpointResult {
  @ApiProperty({ type: RotationInfo })
  rotation!: RotationInfo;
}
