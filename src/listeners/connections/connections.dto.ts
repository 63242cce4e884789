import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { ReconcileReport } from './connections.reconciler';
import type { ConnectionView } from './connections.service';

export class ListConnectionsQuery {
  /** Panora's linked user id. */
  @ApiPropertyOptional({ description: "Panora's linked user id (id_linked_user)", maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  linkedUserId?: string;

  /** The app's own end-user id (`linked_user_origin_id`). */
  @ApiPropertyOptional({ description: "The app's own end-user id (linked_user_origin_id)", maxLength: 255 })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  originId?: string;

  @ApiPropertyOptional({ description: 'Provider slug', example: 'hubspot', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  provider?: string;

  @ApiPropertyOptional({ example: 'crm', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  vertical?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** A connection as the admin API shows it: never its token. */
export class ConnectionViewDto implements ConnectionView {
  @ApiProperty({ description: "Panora's id_connection", example: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f' })
  idConnection!: string;

  @ApiProperty({ type: String, nullable: true, example: 'hubspot' })
  providerSlug!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'crm' })
  vertical!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'valid' })
  status!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'https://app.hubspot.com/contacts/4411223' })
  accountUrl!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '7f3e2d1c-0b9a-4867-a5b4-c3d2e1f0a9b8' })
  idProject!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "Panora's linked user",
    example: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  })
  idLinkedUser!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "The app's own end-user id, once Panora told it",
    example: 'user_1842',
  })
  linkedUserOriginId!: string | null;

  @ApiProperty({ description: 'Whether a connection token is stored' })
  hasToken!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'The last 4 characters of the token', example: '9e8d' })
  tokenHint!: string | null;

  @ApiProperty({ type: Date, nullable: true, example: '2026-11-23T04:00:00.000Z' })
  panoraCreatedAt!: Date | null;

  @ApiProperty({ enum: ['webhook', 'reconciliation'], description: 'How the connection first came in' })
  source!: 'webhook' | 'reconciliation';

  @ApiProperty({ example: '2026-11-23T04:00:00.000Z' })
  createdAt!: Date;

  @ApiProperty({ example: '2026-11-23T04:00:00.000Z' })
  updatedAt!: Date;
}

export class ConnectionListDto {
  @ApiProperty({ type: [ConnectionViewDto] })
  items!: ConnectionViewDto[];
}

export class ConnectionTokenDto {
  @ApiProperty({ example: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f' })
  idConnection!: string;

  @ApiProperty({
    description: "The end-user's connection token: send it as x-connection-token to Panora's unified API",
    example: '1c7e7f5e-1f0b-4b8e-9d7a-3c2b1a0f9e8d',
  })
  connectionToken!: string;
}

export class ReconcileReportDto implements ReconcileReport {
  @ApiProperty({ description: 'Connections Panora listed', example: 12 })
  seen!: number;

  @ApiProperty({ description: 'Connections this service did not have', example: 1 })
  created!: number;

  @ApiProperty({ example: 2 })
  updated!: number;

  @ApiProperty({ example: 9 })
  unchanged!: number;

  @ApiProperty({
    description:
      'Connections left alone because an event received after the read from Panora began had changed them already',
    example: 0,
  })
  stale!: number;

  @ApiProperty({ example: 0 })
  failed!: number;

  @ApiProperty({ description: "App user ids (linked_user_origin_id) learnt from Panora's linked users", example: 1 })
  originIdsResolved!: number;
}
