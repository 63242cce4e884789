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
  @ApiProperty({ description: "Panora's id_event (the id its delivery would have carried)" })
  idEvent!: string;

  @ApiProperty({ description: 'As Panora lists it (and would have delivered it)', example: 'crm.company.push' })
  type!: string;

  @ApiProperty({ description: 'As listeners subscribe to it', example: 'crm.company.created' })
  normalizedType!: string;

  @ApiProperty({ type: String, nullable: true })
  idConnection!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'hubspot' })
  provider!: string | null;

  @ApiProperty({ description: "Panora's timestamp of the event" })
  panoraTimestamp!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The active endpoint subscribed to the type' })
  endpointId!: string | null;

  @ApiProperty({ description: 'Why the event is believed missed' })
  reason!: string;

  @ApiProperty({
    enum: MISSED_STATUSES,
    description:
      'pending: to recover; recovered: its connection or CRM objects re-read from Panora; published: ' +
      'recovery.event.missed sent on the bus; given_up: see lastError; arrived_late: its delivery came after all',
  })
  status!: MissedStatus;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed, or why recovery gave up' })
  lastError!: string | null;

  @ApiProperty()
  detectedAt!: string;

  @ApiProperty({ type: String, nullable: true })
  settledAt!: string | null;
}

export class RecoveryCountsDto implements RecoveryCounts {
  @ApiProperty({ description: 'Missed events made good (connection reconciled, CRM kind re-read)' })
  recovered!: number;

  @ApiProperty({ description: 'Missed events sent on the bus as recovery.event.missed' })
  published!: number;

  @ApiProperty({ description: 'Missed events given up on (the reason is on each)' })
  givenUp!: number;

  @ApiProperty({ description: 'Missed events whose recovery failed this run: still pending' })
  failed!: number;

  @ApiProperty({ description: "CRM objects read back from Panora's unified lists" })
  objectsRead!: number;

  @ApiProperty({ description: 'CRM projection rows those changed' })
  objectsChanged!: number;

  @ApiProperty({ description: 'CRM objects the projection cannot read, left out' })
  objectsSkipped!: number;
}

export class DetectionCountsDto {
  @ApiProperty({ description: 'The walk went back as far as it had to (then the watermark moved)' })
  complete!: boolean;

  @ApiProperty({ description: 'Pages of GET /events read' })
  pages!: number;

  @ApiProperty({ description: 'Events Panora listed in the window walked' })
  listed!: number;

  @ApiProperty({ description: 'Of those, webhooks Panora sent to one of our active endpoints' })
  delivered!: number;

  @ApiProperty({ description: 'Of those, the ones the inbox holds' })
  received!: number;

  @ApiProperty({ description: 'Missed events found by this run' })
  found!: number;

  @ApiProperty({ description: 'Missed events whose delivery has arrived since' })
  arrivedLate!: number;
}

export class RecoveryRunReportDto implements RecoveryRunReport {
  @ApiProperty({ enum: OUTCOMES })
  outcome!: RunOutcome;

  @ApiProperty()
  startedAt!: string;

  @ApiProperty()
  finishedAt!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Where the next walk starts (less RECOVERY_OVERLAP)' })
  watermark!: string | null;

  @ApiProperty({ type: DetectionCountsDto })
  detection!: DetectionCountsDto;

  @ApiProperty({ type: [String], description: 'The id_events of the missed events this run found' })
  foundIds!: string[];

  @ApiProperty({ type: RecoveryCountsDto })
  recovery!: RecoveryCountsDto;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;
}

export class LastRunDto {
  @ApiProperty({ type: String, nullable: true })
  startedAt!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'null while the run is going on' })
  finishedAt!: string | null;

  @ApiProperty({ enum: OUTCOMES, nullable: true })
  outcome!: RunOutcome | null;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  @ApiProperty({
    type: Object,
    nullable: true,
    description: 'The counts of the run (as POST /admin/recovery/run answers)',
  })
  counts!: Record<string, number> | null;
}

export class RecoveryStatusDto implements RecoveryStatus {
  @ApiProperty({ description: 'False without PANORA_API_KEY' })
  enabled!: boolean;

  @ApiProperty({ description: 'RECOVERY_INTERVAL: 0 when recovery runs on demand only' })
  intervalSeconds!: number;

  @ApiProperty({ type: String, nullable: true, description: 'How far the last complete walk of Panora events reached' })
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

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  nextCursor!: string | null;
}
