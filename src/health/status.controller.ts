import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard, ApiAdminAuth } from '../platform/http';
import { SERVICE_STATUS_EXAMPLE, ServiceStatusDto } from './status.dto';
import { StatusService } from './status.service';

/** The service in one answer, for operators (`panora-webhooks status`) and the console. */
@ApiTags('operations')
@ApiAdminAuth()
@Controller('admin/status')
@UseGuards(AdminAuthGuard)
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Health, broker, inbox backlog and outbox in one answer',
    description:
      'Readiness (the database ping of /health/ready), the broker, the inbox backlog by status with the dead count ' +
      'and the age of the oldest unprocessed event, and the outbox rows the broker has not confirmed. Always 200 ' +
      'for an admin key (read-only keys too): a database that does not answer is reported, with ready false.',
  })
  @ApiOkResponse({ type: ServiceStatusDto, description: 'The service as it is now', example: SERVICE_STATUS_EXAMPLE })
  get(): Promise<ServiceStatusDto> {
    return this.status.status();
  }
}
