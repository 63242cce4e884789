import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { EVENT_STATUSES, type EventStatus } from '../webhook-event.entity';

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' || value === true ? true : value === 'false' || value === false ? false : value;

/** The type and endpoint filters the event list and the event stream share. */
class EventTypeAndEndpointFilter {
  /** Normalised or delivered type, e.g. `crm.company.created` (matches `crm.company.push` too). */
  @ApiPropertyOptional({
    description: 'Normalised or delivered type; `crm.company.created` matches `crm.company.push` too',
    example: 'connection.created',
    maxLength: 255,
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  type?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only events of this endpoint' })
  @IsOptional()
  @IsUUID('all', { message: 'endpointId must be an endpoint id (UUID)' })
  endpointId?: string;
}

export class ListEventsQuery extends EventTypeAndEndpointFilter {
  @ApiPropertyOptional({ enum: EVENT_STATUSES })
  @IsOptional()
  @IsIn(EVENT_STATUSES, { message: `status must be one of: ${EVENT_STATUSES.join(', ')}` })
  status?: EventStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  /** `nextCursor` from the previous page. */
  @ApiPropertyOptional({ description: '`nextCursor` of the previous page', example: '1042' })
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

/** The filters of `GET /admin/events/stream`, and where it starts. */
export class StreamEventsQuery extends EventTypeAndEndpointFilter {
  @ApiPropertyOptional({ enum: EVENT_STATUSES, description: 'Only events in this state when the stream reads them' })
  @IsOptional()
  @IsIn(EVENT_STATUSES, { message: `status must be one of: ${EVENT_STATUSES.join(', ')}` })
  status?: EventStatus;

  @ApiPropertyOptional({
    description:
      'Resume after this cursor (the `id:` of a message), as the `Last-Event-ID` header does (the header wins); ' +
      'without either, the stream starts now',
    pattern: '^\\d{1,19}-\\d{1,19}$',
  })
  @IsOptional()
  @Matches(/^\d{1,19}-\d{1,19}$/, { message: 'since must be the id of a stream message (like 812345-1042)' })
  since?: string;
}

export class ReplayOneQuery {
  /** Run every listener again, not only the failed or dead ones. */
  @ApiPropertyOptional({ description: 'Run every listener again, not only the failed or dead ones', default: false })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'all must be true or false' })
  all?: boolean;
}

export class BulkReplayDto {
  @ApiProperty({ enum: ['dead', 'failed'], description: 'Which events to queue again' })
  @IsIn(['dead', 'failed'], { message: 'status must be dead or failed' })
  status!: 'dead' | 'failed';

  @ApiPropertyOptional({
    description: 'Only events of this (normalised or delivered) type',
    maxLength: 255,
    example: 'crm.deal.created',
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  type?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Only events of this endpoint',
    example: '456ae1bb-3a3f-4544-afa5-11398f4362b0',
  })
  @IsOptional()
  @IsUUID('all', { message: 'endpointId must be an endpoint id (UUID)' })
  endpointId?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Only events received at or after this time',
    example: '2026-12-02T16:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 time, like 2026-11-23T05:00:00Z' })
  since?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Only events received before this time',
    example: '2026-12-02T18:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 time, like 2026-11-23T06:00:00Z' })
  until?: string;

  @ApiPropertyOptional({ description: 'Count what would be queued, change nothing', default: false })
  @IsOptional()
  @IsBoolean({ message: 'dryRun must be true or false' })
  dryRun?: boolean;
}

export class EventSummary {
  @ApiProperty({ description: 'Inbox id (use it with /admin/events/{id})', example: '1042' })
  id!: string;

  @ApiProperty({ format: 'uuid', example: '456ae1bb-3a3f-4544-afa5-11398f4362b0' })
  endpointId!: string;

  @ApiProperty({ description: "Panora's id_event", example: 'f4e1ff72-e727-409a-8935-a63a63d4891e' })
  idEvent!: string;

  @ApiProperty({ description: 'The type as delivered', example: 'crm.company.push' })
  type!: string;

  @ApiProperty({ description: 'The type listeners subscribe to', example: 'crm.company.created' })
  normalizedType!: string;

  @ApiProperty({ enum: EVENT_STATUSES })
  status!: EventStatus;

  @ApiProperty({
    description:
      'Dispatch attempts since the event was received, replays included (a replay never resets it; ' +
      'WEBHOOK_MAX_ATTEMPTS counts from the last replay)',
    example: 1,
  })
  attempts!: number;

  @ApiProperty({ example: '2026-12-02T17:45:54.073Z' })
  receivedAt!: Date;

  @ApiProperty({ type: Date, nullable: true, example: '2026-12-02T17:45:54.841Z' })
  processedAt!: Date | null;

  @ApiProperty({ type: Date, nullable: true, description: 'When a failed event is retried', example: null })
  nextAttemptAt!: Date | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Why the last attempt failed, one line per listener; "(permanent: not retried …)" marks a failure no retry ' +
      'can fix (the event is dead at once: fix the cause, then replay it)',
    example: null,
  })
  lastError!: string | null;
}

export class ListenerOutcome {
  @ApiProperty({ example: 'connections.store' })
  listener!: string;

  @ApiProperty({
    enum: ['succeeded', 'failed', 'dead'],
    description: 'dead: the event is dead (a permanent failure, or its last attempt); a replay runs it again',
  })
  status!: string;

  @ApiProperty({
    description: "Attempts of the event that ran this listener, replays included (≤ the event's)",
    example: 1,
  })
  attempts!: number;

  @ApiProperty({ type: String, nullable: true, example: null })
  lastError!: string | null;

  @ApiProperty({ example: '2026-12-02T17:45:54.841Z' })
  updatedAt!: Date;
}

export class EventDetail extends EventSummary {
  /** The payload with every credential replaced by "[redacted]". */
  @ApiProperty({
    description: 'The payload as stored, every credential (connection token, OAuth blobs) replaced by "[redacted]"',
    oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }],
    example: { id: 'ct-1', first_name: 'Ada', last_name: 'Lovelace', email_addresses: [], phone_numbers: [] },
  })
  payload!: unknown;

  @ApiProperty({ type: [ListenerOutcome] })
  listeners!: ListenerOutcome[];
}

export class ReplayResult {
  @ApiProperty({ enum: [true] })
  queued!: true;

  @ApiProperty({ example: '1042' })
  id!: string;

  @ApiProperty({ enum: ['all', 'unfinished'], description: 'Which listeners run again' })
  listeners!: 'all' | 'unfinished';
}

export class BulkReplayResult {
  @ApiProperty({ description: 'Events queued again (with dryRun: that would be)', example: 2 })
  queued!: number;

  @ApiPropertyOptional({ enum: [true], description: 'Present with dryRun: nothing was changed' })
  dryRun?: true;

  @ApiPropertyOptional({
    type: [String],
    description: 'Inbox ids of the events queued (when some were)',
    example: ['1041', '1042'],
  })
  ids?: string[];

  @ApiPropertyOptional({
    description:
      'A stream cursor taken just before the replay: `GET /admin/events/stream?since=` it shows each queued ' +
      'event as it ends again (processed, failed or dead); the CLI tracks its progress bar so',
    example: '812345-0',
  })
  cursor?: string;

  @ApiProperty({
    description:
      'Matching events left as they are because their payload was pruned after the retention period (INBOX_RETENTION_DAYS)',
    example: 0,
  })
  skipped!: number;
}
