import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CRM_KINDS, type CrmKind, type CrmShape } from './crm-mapping';
import type { CrmObjectView } from './crm-object';

const KIND_MESSAGE = `kind must be one of: ${CRM_KINDS.join(', ')}`;

export class CrmKindParams {
  @ApiProperty({ enum: CRM_KINDS })
  @IsIn(CRM_KINDS, { message: KIND_MESSAGE })
  kind!: CrmKind;
}

export class CrmObjectParams {
  @ApiProperty({ enum: CRM_KINDS })
  @IsIn(CRM_KINDS, { message: KIND_MESSAGE })
  kind!: CrmKind;

  /** Panora's id of the object. */
  @ApiProperty({ description: "Panora's id of the object", maxLength: 255 })
  @IsString()
  @MaxLength(255)
  id!: string;
}

export class ListCrmObjectsQuery {
  /**
   * Only objects whose projection changed at or after this instant (ISO 8601): where to start
   * without a cursor. Follow `nextCursor` from there on.
   */
  @ApiPropertyOptional({
    description:
      'Only objects whose projection changed at or after this instant (ISO 8601): where to start without a cursor; follow nextCursor from there on',
    example: '2026-11-23T04:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'updatedSince must be an ISO 8601 date, e.g. 2026-11-23T04:00:00Z' })
  updatedSince?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  /** `nextCursor` from the previous page (or the last poll). */
  @ApiPropertyOptional({
    description: '`nextCursor` of the previous page or poll (of the same kind)',
    maxLength: 400,
  })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}

/** One CRM object's projection. */
export class CrmObjectViewDto implements CrmObjectView {
  @ApiProperty({ enum: CRM_KINDS })
  kind!: CrmKind;

  @ApiProperty({ description: "Panora's id", example: 'b7c8d9e0-f1a2-4b3c-8d4e-5f6a7b8c9d0e' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: "The CRM's own id", example: '4411223001' })
  remoteId!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Panora connection (raw rows only)',
    example: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
  })
  connectionId!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Jane Doe' })
  name!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "A contact's primary email", example: 'jane@acme.example' })
  email!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "A company's domain", example: null })
  domain!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "Panora's modified_at of the stored version",
    example: '2026-11-23T04:00:00.000Z',
  })
  modifiedAt!: string | null;

  @ApiProperty({
    enum: ['unified', 'raw'],
    description: "unified (Panora's unified model) or raw (a row of Panora's database, from *.pulled)",
  })
  shape!: CrmShape;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The whole object' })
  data!: Record<string, unknown>;

  @ApiProperty({ description: 'Inbox id (/admin/events/{id}) of the event that created the row', example: '1042' })
  firstEventId!: string;

  @ApiProperty({ description: 'Inbox id of the last event that changed it', example: '1057' })
  lastEventId!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-23T04:00:00.000Z' })
  firstSeenAt!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'When the projection last changed (what updatedSince filters on)',
    example: '2026-11-24T04:00:00.000Z',
  })
  updatedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  deletedAt!: string | null;
}

/** A page of `GET /admin/crm/:kind`. */
export class CrmObjectPageDto {
  @ApiProperty({ type: [CrmObjectViewDto], description: 'In the order their changes became readable' })
  items!: CrmObjectViewDto[];

  @ApiProperty({
    description:
      'Always present, also on the last page: pass it as cursor to read on, or later to poll for what changed since. ' +
      'A page shorter than limit means there is nothing more for now.',
    example: 'WyJjcm0iLCJjb250YWN0IiwiNDgyMTMiLDU3XQ',
  })
  nextCursor!: string;
}
