import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answer of POST /admin/endpoints/sync: how the endpoints here and at Panora compare. */
class SyncUpdated {
  @ApiProperty({ format: 'uuid', example: '5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e' })
  id!: string;

  @ApiProperty({ example: 'c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b' })
  panoraEndpointId!: string;

  @ApiPropertyOptional()
  active?: boolean;

  @ApiPropertyOptional({ type: [String], example: ['connection.created', 'crm.contact.created'] })
  scope?: string[];
}

class SyncOnlyLocal {
  @ApiProperty({ format: 'uuid', example: '5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e' })
  id!: string;

  @ApiProperty({ example: 'c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b' })
  panoraEndpointId!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://webhooks.acme.example/webhooks/panora/5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e',
  })
  url!: string | null;
}

class SyncNotRegistered {
  @ApiProperty({ format: 'uuid', example: '5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e' })
  id!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://webhooks.acme.example/webhooks/panora/5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e',
  })
  url!: string | null;
}

class SyncOnlyAtPanora {
  @ApiProperty({ example: '0d4e6f8a-1b2c-4d3e-9f5a-6b7c8d9e0f1a' })
  panoraEndpointId!: string;

  @ApiProperty({ type: String, nullable: true, example: 'https://old-host.acme.example/webhooks/panora' })
  url!: string | null;

  @ApiProperty({ type: [String], example: ['crm.company.created'] })
  scope!: string[];

  @ApiProperty({ type: Boolean, nullable: true })
  active!: boolean | null;

  @ApiProperty({ type: String, nullable: true, example: 'Made in the dashboard' })
  description!: string | null;
}

export class SyncResult {
  /** Local endpoints whose `active` or scope were updated from Panora. */
  @ApiProperty({ type: [SyncUpdated], description: 'Local endpoints whose active or scope were updated from Panora' })
  updated!: SyncUpdated[];

  /** Local endpoints whose Panora id Panora does not list (deleted in its dashboard?). */
  @ApiProperty({
    type: [SyncOnlyLocal],
    description: 'Local endpoints whose Panora id Panora does not list (deleted in its dashboard?)',
  })
  onlyLocal!: SyncOnlyLocal[];

  /** Local endpoints never registered at Panora (imported without an id, or a registration cut short). */
  @ApiProperty({
    type: [SyncNotRegistered],
    description: 'Local endpoints never registered at Panora (imported without an id, or a registration cut short)',
  })
  notRegistered!: SyncNotRegistered[];

  /** Endpoints Panora has that this service does not know: import them to receive their events. */
  @ApiProperty({
    type: [SyncOnlyAtPanora],
    description: 'Endpoints Panora has that this service does not know: import them to receive their events',
  })
  onlyAtPanora!: SyncOnlyAtPanora[];

  @ApiProperty({
    type: [String],
    example: [
      'Panora endpoint c9a1e8f2-3b4d-4e5f-8a6b-7c8d9e0f1a2b (endpoint 5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e) and Panora endpoint 0d4e6f8a-1b2c-4d3e-9f5a-6b7c8d9e0f1a both subscribe to crm.company.created: Panora delivers each of these events to only one of them',
    ],
  })
  warnings!: string[];
}
