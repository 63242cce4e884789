import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListConnectionsQuery {
  /** Panora's linked user id. */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  linkedUserId?: string;

  /** The app's own end-user id (`linked_user_origin_id`). */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  originId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  provider?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  vertical?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}
