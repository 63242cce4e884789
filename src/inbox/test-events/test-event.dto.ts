import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { EVENT_STATUSES, type EventStatus } from '../webhook-event.entity';
import { PANORA_SCOPES } from '../../panora';

export class SendTestEventDto {
  @ApiProperty({
    description: 'An event type Panora offers; a realistic sample payload of that type is sent',
    enum: PANORA_SCOPES,
    example: 'connection.created',
  })
  @IsIn(PANORA_SCOPES, { message: 'type must be an event type Panora offers, e.g. connection.created' })
  type!: string;
}

export class TestEventResult {
  @ApiProperty({ description: 'Inbox id of the stored event: follow it with GET /admin/events/{id}', example: '1042' })
  eventId!: string;

  @ApiProperty({ format: 'uuid', example: '5b1c2f0e-8d6a-4a51-9c1e-2f3b4a5c6d7e' })
  endpointId!: string;

  @ApiProperty({ description: 'The id_event sent', example: 'f4e1ff72-e727-409a-8935-a63a63d4891e' })
  idEvent!: string;

  @ApiProperty({ description: 'The type as Panora would deliver it', example: 'crm.company.push' })
  deliveredType!: string;

  @ApiProperty({ description: 'The type listeners subscribe to', example: 'crm.company.created' })
  normalizedType!: string;

  @ApiProperty({ enum: EVENT_STATUSES, description: 'Its status right after the receive route answered' })
  status!: EventStatus;

  @ApiProperty({ description: 'What the receive route answered', example: { received: true } })
  receiveAnswer!: unknown;
}
