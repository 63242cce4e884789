import { Controller, Get, HttpCode, HttpStatus, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard, ApiAdminAuth, ApiErrors, ErrorBodyDto } from '../platform/http';
import { RecoveryRunReportDto, RecoveryStatusDto, RecoveryStatusQuery } from './recovery.dto';
import { RecoveryService } from './recovery.service';

/** Missed events and their recovery. `Authorization: Bearer <admin key>` (read-only keys: GET only). */
@ApiTags('recovery')
@ApiAdminAuth()
@Controller('admin/recovery')
@UseGuards(AdminAuthGuard)
export class RecoveryController {
  constructor(private readonly recovery: RecoveryService) {}

  @Get()
  @ApiOperation({
    operationId: 'getRecoveryStatus',
    summary: 'Recovery state and missed events',
    description:
      'The watermark, the last run, the missed events by status, and a page of them (newest first). A missed ' +
      "event is one Panora's GET /events lists as sent to one of our active endpoints that the inbox never received.",
  })
  @ApiOkResponse({ type: RecoveryStatusDto })
  @ApiErrors({ 400: 'A bad status, limit (1–500) or cursor' })
  status(@Query() query: RecoveryStatusQuery) {
    return this.recovery.status({ status: query.status, cursor: query.cursor, limit: query.limit ?? 50 });
  }

  @Post('run')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'runRecovery',
    summary: 'Detect and recover missed events now',
    description:
      "Walks Panora's GET /events back to the watermark (less RECOVERY_OVERLAP), records the events the inbox " +
      'never received, recovers them, and answers what it found. A Panora failure is the outcome (failed), not an error.',
  })
  @ApiOkResponse({ type: RecoveryRunReportDto })
  @ApiErrors({ 409: 'Another instance is running recovery right now (RECOVERY_BUSY)' })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'PANORA_API_KEY is unset (PANORA_NOT_CONFIGURED)' })
  run() {
    return this.recovery.run();
  }
}
