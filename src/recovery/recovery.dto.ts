import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { MISSED_STATUSES, type MissedStatus, type RunOutcome } from './recovery.repository';
import type { RecoveryCounts } from './recovery-run';
import type { MissedEventView, RecoveryRunReport, RecoveryStatus } from './recovery.service';

const OUTCOMES = ['completed', 'partial', 'failed'];

export class RecoveryStatusQuery {
  @ApiPropertyOptional({ enum: MISSED_STATUSES, description: 'Only the missed events with this status' })
  @IsOptional()
  @IsIn(MISSED_STATUSES)
  status?: MissedStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50, description: 'Missed events per page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

export class MissedEventDto implements MissedEventView {
  @ApiProperty({
    description: "Panora's id_event (the id its delivery would have carried)",
    example: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
  })
  idEvent!: string;

  @ApiProperty({ description: 'As Panora lists it (and would have delivered it)', example: 'crm.company.push' })
  type!: string;

  @ApiProperty({ description: 'As listeners subscribe to it', example: 'crm.company.created' })
  normalizedType!: string;

  @ApiProperty({ type: String, nullable: true, example: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f' })
  idConnection!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'hubspot' })
  provider!: string | null;

  @ApiProperty({ description: "Panora's timestamp of the event", example: '2026-11-23T04:00:00.000Z' })
  panoraTimestamp!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The active endpoint subscribed to the type',
    example: '5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e',
  })
  endpointId!: string | null;

  @ApiProperty({
    description: 'Why the event is believed missed',
    example:
      "Panora's GET /events lists crm.company.push (crm.company.created) POST at 2026-11-23T04:00:00.000Z; endpoint 5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e subscribes to crm.company.created; the inbox holds no delivery of it",
  })
  reason!: string;

  @ApiProperty({
    enum: MISSED_STATUSES,
    description:
      'pending: to recover; recovered: its connection or CRM objects re-read from Panora; published: ' +
      'recovery.event.missed sent on the bus; given_up: see lastError; arrived_late: its delivery came after all',
  })
  status!: MissedStatus;

  @ApiProperty({ example: 1 })
  attempts!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why the last attempt failed, or why recovery gave up',
    example: null,
  })
  lastError!: string | null;

  @ApiProperty({ example: '2026-11-24T04:00:00.000Z' })
  detectedAt!: string;

  @ApiProperty({ type: String, nullable: true, example: null })
  settledAt!: string | null;
}

export class RecoveryCountsDto implements RecoveryCounts {
  @ApiProperty({ description: 'Missed events made good (connection reconciled, CRM kind re-read)', example: 2 })
  recovered!: number;

  @ApiProperty({ description: 'Missed events sent on the bus as recovery.event.missed', example: 1 })
  published!: number;

  @ApiProperty({ description: 'Missed events given up on (the reason is on each)', example: 0 })
  givenUp!: number;

  @ApiProperty({ description: 'Missed events whose recovery failed this run: still pending', example: 0 })
  failed!: number;

  @ApiProperty({ description: "CRM objects read back from Panora's unified lists", example: 40 })
  objectsRead!: number;

  @ApiProperty({ description: 'CRM projection rows those changed', example: 3 })
  objectsChanged!: number;

  @ApiProperty({ description: 'CRM objects the projection cannot read, left out', example: 0 })
  objectsSkipped!: number;
}

export class DetectionCountsDto {
  @ApiProperty({ description: 'The walk went back as far as it had to (then the watermark moved)' })
  complete!: boolean;

  @ApiProperty({ description: 'Pages of GET /events read', example: 2 })
  pages!: number;

  @ApiProperty({ description: 'Events Panora listed in the window walked', example: 180 })
  listed!: number;

  @ApiProperty({ description: 'Of those, webhooks Panora sent to one of our active endpoints', example: 60 })
  delivered!: number;

  @ApiProperty({ description: 'Of those, the ones the inbox holds', example: 58 })
  received!: number;

  @ApiProperty({ description: 'Missed events found by this run', example: 2 })
  found!: number;

  @ApiProperty({ description: 'Missed events whose delivery has arrived since', example: 0 })
  arrivedLate!: number;
}

export class RecoveryRunReportDto implements RecoveryRunReport {
  @ApiProperty({ enum: OUTCOMES })
  outcome!: RunOutcome;

  @ApiProperty({ example: '2026-11-24T04:00:00.000Z' })
  startedAt!: string;

  @ApiProperty({ example: '2026-11-24T04:00:03.000Z' })
  finishedAt!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Where the next walk starts (less RECOVERY_OVERLAP)',
    example: '2026-11-23T04:00:00.000Z',
  })
  watermark!: string | null;

  @ApiProperty({ type: DetectionCountsDto })
  detection!: DetectionCountsDto;

  @ApiProperty({
    type: [String],
    description: 'The id_events of the missed events this run found',
    example: ['2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e'],
  })
  foundIds!: string[];

  @ApiProperty({ type: RecoveryCountsDto })
  recovery!: RecoveryCountsDto;

  @ApiProperty({ type: String, nullable: true, example: null })
  error!: string | null;
}

export class LastRunDto {
  @ApiProperty({ type: String, nullable: true, example: '2026-11-24T04:00:00.000Z' })
  startedAt!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'null while the run is going on',
    example: '2026-11-24T04:00:03.000Z',
  })
  finishedAt!: string | null;

  @ApiProperty({ enum: OUTCOMES, nullable: true })
  outcome!: RunOutcome | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  error!: string | null;

  @ApiProperty({
    type: Object,
    nullable: true,
    description: 'The counts of the run (as POST /admin/recovery/run answers)',
    example: { pages: 2, listed: 180, found: 2, recovered: 2, published: 1 },
  })
  counts!: Record<string, number> | null;
}

export class RecoveryStatusDto implements RecoveryStatus {
  @ApiProperty({ description: 'False without PANORA_API_KEY' })
  enabled!: boolean;

  @ApiProperty({ description: 'RECOVERY_INTERVAL: 0 when recovery runs on demand only', example: 900 })
  intervalSeconds!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'How far the last complete walk of Panora events reached',
    example: '2026-11-23T04:00:00.000Z',
  })
  watermark!: string | null;

  @ApiProperty({ type: LastRunDto, nullable: true })
  lastRun!: LastRunDto | null;

  @ApiProperty({
    description: 'Missed events by status',
    example: { pending: 0, recovered: 3, published: 1, given_up: 0, arrived_late: 1 },
  })
  counts!: Record<MissedStatus, number>;

  @ApiProperty({ type: [MissedEventDto], description: 'Missed events, newest first' })
  items!: MissedEventDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null on the last',
    example: null,
  })
  nextCursor!: string | null;
}
