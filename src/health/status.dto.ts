import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The database, as the readiness check sees it. */
export class DatabaseStatusDto {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';

  @ApiPropertyOptional({ description: 'Why it is down', example: 'timeout of 2000ms exceeded' })
  error?: string;
}

/** The outbox relay's broker (the `broker` field of /health/ready). */
export class BrokerStatusDto {
  @ApiProperty({ enum: ['up', 'down', 'disabled'], description: 'disabled: RABBITMQ_URL is unset' })
  status!: 'up' | 'down' | 'disabled';

  @ApiProperty({ example: 'panora.events' })
  exchange!: string;

  @ApiProperty({ format: 'date-time', description: 'Since when the status holds' })
  since!: string;

  @ApiPropertyOptional({ description: 'The last connection or publish error, while down' })
  error?: string;
}

/** The inbox's backlog: events not yet processed, by status. */
export class InboxStatusDto {
  @ApiProperty({ description: 'Stored, waiting for the dispatcher', example: 0 })
  received!: number;

  @ApiProperty({ description: 'Claimed by a dispatcher right now', example: 0 })
  processing!: number;

  @ApiProperty({ description: 'A listener failed; waiting for a retry', example: 0 })
  failed!: number;

  @ApiProperty({ description: 'Out of retries: replay them (`panora-webhooks replay --dead`)', example: 0 })
  dead!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Age in seconds of the oldest received, processing or failed event; null when there is none',
    example: null,
  })
  oldestPendingSeconds!: number | null;
}

/** The outbox: domain events not yet confirmed by the broker. */
export class OutboxStatusDto {
  @ApiProperty({ type: Number, nullable: true, description: 'null when the database does not answer', example: 0 })
  pending!: number | null;
}

/** `GET /admin/status`: the service in one answer (the CLI's `status`, the console's front page). */
export class ServiceStatusDto {
  @ApiProperty({ description: 'The service can take deliveries (the database answers), as /health/ready' })
  ready!: boolean;

  @ApiProperty({ format: 'date-time' })
  checkedAt!: string;

  @ApiProperty({ type: DatabaseStatusDto })
  database!: DatabaseStatusDto;

  @ApiProperty({ type: BrokerStatusDto })
  broker!: BrokerStatusDto;

  @ApiProperty({ type: InboxStatusDto, nullable: true, description: 'null when the database does not answer' })
  inbox!: InboxStatusDto | null;

  @ApiProperty({ type: OutboxStatusDto })
  outbox!: OutboxStatusDto;
}

export const SERVICE_STATUS_EXAMPLE: ServiceStatusDto = {
  ready: true,
  checkedAt: '2026-11-23T05:20:33.123Z',
  database: { status: 'up' },
  broker: { status: 'up', exchange: 'panora.events', since: '2026-11-23T05:01:12.004Z' },
  inbox: { received: 3, processing: 1, failed: 2, dead: 1, oldestPendingSeconds: 42.5 },
  outbox: { pending: 4 },
};
