import { Body, Controller, Param, Post, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard, ApiAdminAuth, ApiErrors } from '../../platform/http';
import { SendTestEventDto, TestEventResult } from './test-event.dto';
import { TestEventService } from './test-event.service';

@ApiTags('endpoints')
@ApiAdminAuth()
@Controller('admin/endpoints')
@UseGuards(AdminAuthGuard)
export class TestEventController {
  constructor(private readonly testEvents: TestEventService) {}

  @Post(':id/test-event')
  @ApiOperation({
    operationId: 'sendTestEvent',
    summary: 'Send a test event to an endpoint',
    description:
      "Signs a realistic sample payload of the type with the endpoint's secret exactly as Panora does and posts it " +
      'to this service’s receive route; it is then stored and processed like any delivery. Follow `eventId` with ' +
      'GET /admin/events/{id} to see how the listeners handled it.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The endpoint' })
  @ApiCreatedResponse({ type: TestEventResult })
  @ApiErrors({
    400: 'type is not an event type Panora offers',
    404: 'Unknown, disabled or deleted endpoint',
    502: 'The receive route refused the test event (the message says what it answered)',
  })
  send(@Param('id') id: string, @Body() dto: SendTestEventDto): Promise<TestEventResult> {
    return this.testEvents.send(id, dto.type);
  }
}
