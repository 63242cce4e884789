import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answers of the endpoints admin API: an endpoint as shown, and what a change did. */
/** A secret as the admin API shows it: never the value, only its last 4 characters. */
export class SecretView {
  @ApiProperty({ format: 'uuid', example: '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4' })
  id!: string;

  @ApiProperty({ description: 'The last 4 characters of the secret', example: 'aa4f' })
  hint!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "Panora's endpoint id the secret came with",
    example: 'c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b',
  })
  panoraEndpointId!: string | null;

  @ApiProperty({ example: '2026-11-23T04:00:00.000Z' })
  createdAt!: Date;

  /** Null for the current secret; the end of its grace period for a replaced one. */
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'Null for the current secret; the end of its grace period for a replaced one',
    example: null,
  })
  expiresAt!: Date | null;
}

export class EndpointView {
  @ApiProperty({ format: 'uuid', example: '5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e' })
  id!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "Panora's id_webhook_endpoint",
    example: 'c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b',
  })
  panoraEndpointId!: string | null;

  /** The URL registered at Panora. */
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The URL registered at Panora',
    example: 'https://webhooks.acme.example/webhooks/panora/5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e',
  })
  url!: string | null;

  /** Where this service receives the endpoint's deliveries: the URL to give Panora. */
  @ApiProperty({
    description: "Where this service receives the endpoint's deliveries: the URL to give Panora",
    example: 'https://webhooks.acme.example/webhooks/panora/5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e',
  })
  receiveUrl!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Contacts and companies for the CRM sync' })
  description!: string | null;

  @ApiProperty({ type: [String], example: ['connection.created'] })
  scope!: string[];

  @ApiProperty()
  active!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "Panora's project id",
    example: '7f3e2d1c-0b9a-4867-a5b4-c3d2e1f0a9b8',
  })
  idProject!: string | null;

  @ApiProperty({ example: '2026-11-23T04:00:00.000Z' })
  createdAt!: Date;

  @ApiProperty({ example: '2026-11-23T04:00:00.000Z' })
  updatedAt!: Date;

  @ApiProperty({ type: Date, nullable: true, example: null })
  deletedAt!: Date | null;

  @ApiProperty({ type: [SecretView] })
  secrets!: SecretView[];
}

export class EndpointResult extends EndpointView {
  /** E.g. scopes overlapping another active endpoint (Panora delivers to only one of them). */
  @ApiProperty({
    type: [String],
    description: 'E.g. scopes overlapping another active endpoint (Panora delivers an event to only one of them)',
    example: [],
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
    example: null,
  })
  previousSecretExpiresAt!: Date | null;
}

export class RotationInfo {
  @ApiProperty({ example: 'c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b' })
  previousPanoraEndpointId!: string;

  @ApiProperty({ example: '0d4e6f8a-1b2c-4d3e-9f5a-6b7c8d9e0f1a' })
  newPanoraEndpointId!: string;

  /** Until then, deliveries signed with the previous secret still verify. */
  @ApiProperty({
    description: 'Until then, deliveries signed with the previous secret still verify',
    example: '2026-11-24T04:00:00.000Z',
  })
  previousSecretExpiresAt!: Date;

  /** False when Panora refused to disable the previous endpoint: disable it by hand. */
  @ApiProperty({ description: 'False when Panora refused to disable the previous endpoint: disable it by hand' })
  previousDisabledAtPanora!: boolean;

  @ApiPropertyOptional({ example: 'Panora answered 503 Service Unavailable' })
  error?: string;
}

export class RotationResult extends EndpointResult {
  @ApiProperty({ type: RotationInfo })
  rotation!: RotationInfo;
}
