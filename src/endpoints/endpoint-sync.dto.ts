import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answer of POST /admin/endpoints/sync: how the endpoints here and at Panora compare. */
class SyncUpdated {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  panoraEndpointId!: string;

  @ApiPropertyOptional()
  active?: boolean;

  @ApiPropertyOptional({ type: [String] })
  scope?: string[];
}

class SyncOnlyLocal {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  panoraEndpointId!: string;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;
}

class SyncNotRegistered {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;
}

class SyncOnlyAtPanora {
  @ApiProperty()
  panoraEndpointId!: string;

  @ApiProperty({ type: String, nullable: true })
  url!: string | null;

  @ApiProperty({ type: [String] })
  scope!: string[];

  @ApiProperty({ type: Boolean, nullable: true })
  active!: boolean | null;

  @ApiProperty({ type: String, nullable: true })
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

  @ApiProperty({ type: [String] })
  warnings!: string[];
}
