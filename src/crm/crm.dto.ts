import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CRM_KINDS, type CrmKind } from './crm-mapping';

const KIND_MESSAGE = `kind must be one of: ${CRM_KINDS.join(', ')}`;

export class CrmKindParams {
  @IsIn(CRM_KINDS, { message: KIND_MESSAGE })
  kind!: CrmKind;
}

export class CrmObjectParams {
  @IsIn(CRM_KINDS, { message: KIND_MESSAGE })
  kind!: CrmKind;

  /** Panora's id of the object. */
  @IsString()
  @MaxLength(255)
  id!: string;
}

export class ListCrmObjectsQuery {
  /** Only objects whose projection changed at or after this instant (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'updatedSince must be an ISO 8601 date, e.g. 2026-11-23T04:00:00Z' })
  updatedSince?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  /** `nextCursor` from the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}
