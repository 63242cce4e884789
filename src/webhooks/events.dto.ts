import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { EVENT_STATUSES, type EventStatus } from './webhook-event.entity';

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' || value === true ? true : value === 'false' || value === false ? false : value;

export class ListEventsQuery {
  @IsOptional()
  @IsIn(EVENT_STATUSES, { message: `status must be one of: ${EVENT_STATUSES.join(', ')}` })
  status?: EventStatus;

  /** Normalised or delivered type, e.g. `crm.company.created` (matches `crm.company.push` too). */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  type?: string;

  @IsOptional()
  @IsUUID('all', { message: 'endpointId must be an endpoint id (UUID)' })
  endpointId?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  /** `nextCursor` from the previous page. */
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

export class ReplayOneQuery {
  /** Run every listener again, not only the failed or dead ones. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'all must be true or false' })
  all?: boolean;
}

export class BulkReplayDto {
  @IsIn(['dead', 'failed'], { message: 'status must be dead or failed' })
  status!: 'dead' | 'failed';

  @IsOptional()
  @IsString()
  @MaxLength(255)
  type?: string;

  @IsOptional()
  @IsUUID('all', { message: 'endpointId must be an endpoint id (UUID)' })
  endpointId?: string;
}

export interface EventSummary {
  id: string;
  endpointId: string;
  idEvent: string;
  type: string;
  normalizedType: string;
  status: EventStatus;
  attempts: number;
  receivedAt: Date;
  processedAt: Date | null;
  nextAttemptAt: Date | null;
  lastError: string | null;
}

export interface ListenerOutcome {
  listener: string;
  status: string;
  attempts: number;
  lastError: string | null;
  updatedAt: Date;
}

export interface EventDetail extends EventSummary {
  /** The payload with every credential replaced by "[redacted]". */
  payload: unknown;
  listeners: ListenerOutcome[];
}
