import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** `GET /admin/whoami`: what the caller's key may do, so the console hides the buttons it cannot use. */
export class WhoAmIDto {
  @ApiProperty({
    enum: ['full', 'read-only'],
    description: 'full: a key of ADMIN_API_KEYS (every route); read-only: of ADMIN_READ_API_KEYS (GET routes only)',
  })
  access!: 'full' | 'read-only';
}

/** The inbox's backlog now. */
export class StatsBacklogDto {
  @ApiProperty({ example: 3 }) received!: number;
  @ApiProperty({ example: 1 }) processing!: number;
  @ApiProperty({ example: 2 }) failed!: number;
  @ApiProperty({ example: 1 }) dead!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'Age in seconds of the oldest unprocessed event' })
  oldestPendingSeconds!: number | null;
}

export class StatsBrokerDto {
  @ApiProperty({ enum: ['up', 'down', 'disabled'] }) status!: 'up' | 'down' | 'disabled';
  @ApiProperty({ format: 'date-time', description: 'Since when the status holds' }) since!: string;
  @ApiPropertyOptional({ description: 'The last error, while down' }) error?: string;
}

/** `GET /admin/stats`: the overview's charts, one value per minute of the last hour. */
export class StatsDto {
  @ApiProperty({ format: 'date-time' })
  generatedAt!: string;

  @ApiProperty({
    type: [String],
    description: 'The start of each minute of the window, oldest first; the last one is the current minute',
    example: ['2026-11-23T04:21:00.000Z', '2026-11-23T04:22:00.000Z'],
  })
  minutes!: string[];

  @ApiProperty({ type: [Number], description: 'Events received in each minute', example: [12, 9] })
  received!: number[];

  @ApiProperty({ type: [Number], description: 'Events processed in each minute', example: [12, 8] })
  processed!: number[];

  @ApiProperty({
    type: [Number],
    description: 'Events now failed (waiting for a retry) by the minute of their latest failure',
    example: [0, 1],
  })
  failed!: number[];

  @ApiProperty({ type: [Number], description: 'Events now dead, by the minute they died', example: [0, 0] })
  dead!: number[];

  @ApiProperty({ type: StatsBacklogDto })
  backlog!: StatsBacklogDto;

  @ApiProperty({ type: StatsBrokerDto })
  broker!: StatsBrokerDto;

  @ApiProperty({ type: Number, nullable: true, description: 'Outbox rows the broker has not confirmed' })
  outboxPending!: number | null;
}

export class DeadGroupDto {
  @ApiProperty({ description: 'The normalised type', example: 'crm.deal.created' })
  type!: string;

  @ApiProperty({
    description: 'The last error with ids and numbers masked (<id>, N): the key of the group',
    example: 'crm: HTTP N from Panora for deal <id>',
  })
  error!: string;

  @ApiProperty({ example: 14 })
  count!: number;

  @ApiProperty({ description: 'The newest event of the group (its inbox id)', example: '1042' })
  sampleId!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Its last error as recorded' })
  sampleError!: string | null;

  @ApiProperty({ format: 'date-time' })
  newestReceivedAt!: Date;
}

export class DeadGroupsDto {
  @ApiProperty({ type: [DeadGroupDto] })
  groups!: DeadGroupDto[];
}

export class DeadGroupIdsQuery {
  @ApiProperty({ description: 'The group’s `type`', example: 'crm.deal.created' })
  @IsString()
  @MaxLength(255)
  type!: string;

  @ApiProperty({ description: 'The group’s `error`, as the groups list gives it' })
  @IsString()
  @MaxLength(400)
  error!: string;
}

export class DeadGroupsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100, description: 'At most this many groups' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class DeadGroupIdsDto {
  @ApiProperty({ type: [String], description: 'Inbox ids, oldest first', example: ['1040', '1042'] })
  ids!: string[];

  @ApiProperty({ description: 'More events are in the group than the ids listed (at most 10,000 are)' })
  truncated!: boolean;
}

export class EventIdsQuery {
  @ApiProperty({ description: "Panora's id_event", example: 'f4e1ff72-e727-409a-8935-a63a63d4891e' })
  @IsString()
  @MaxLength(255)
  idEvent!: string;
}

export class EventIdsDto {
  @ApiProperty({ type: [String], description: 'Inbox ids of its deliveries (one per endpoint), newest first' })
  ids!: string[];
}

export class EventCursorQuery {
  @ApiProperty({ format: 'date-time', description: 'A time', example: '2026-11-23T04:00:00Z' })
  @IsDateString({}, { message: 'before must be an ISO 8601 date-time' })
  before!: string;
}

export class EventCursorDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` to GET /admin/events: its pages start with the events received before `before`',
    example: '1042',
  })
  cursor!: string | null;
}

export const STATS_EXAMPLE: StatsDto = {
  generatedAt: '2026-11-23T05:20:33.123Z',
  // 60 minutes in a real answer; two here.
  minutes: ['2026-11-23T05:19:00.000Z', '2026-11-23T05:20:00.000Z'],
  received: [42, 17],
  processed: [41, 15],
  failed: [1, 0],
  dead: [0, 1],
  backlog: { received: 2, processing: 1, failed: 1, dead: 3, oldestPendingSeconds: 4.2 },
  broker: { status: 'up', since: '2026-11-23T05:01:12.004Z' },
  outboxPending: 0,
};

export const DEAD_GROUPS_EXAMPLE: DeadGroupsDto = {
  groups: [
    {
      type: 'crm.deal.created',
      error: 'crm.projection: HTTP N from Panora for deal <id>',
      count: 14,
      sampleId: '1042',
      sampleError: 'crm.projection: HTTP 502 from Panora for deal 5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e',
      newestReceivedAt: new Date('2026-11-23T05:18:02.410Z'),
    },
  ],
};
