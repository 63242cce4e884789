import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from '../common/admin-auth.guard';
import { BulkReplayDto, ListEventsQuery, ReplayOneQuery } from './events.dto';
import { EventsService } from './events.service';

/** Inspecting and replaying received events. `Authorization: Bearer <one of ADMIN_API_KEYS>`. */
@Controller('admin/events')
@UseGuards(AdminAuthGuard)
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  list(@Query() query: ListEventsQuery) {
    return this.events.list(query);
  }

  @Post('replay')
  @HttpCode(HttpStatus.ACCEPTED)
  replayMany(@Body() body: BulkReplayDto) {
    return this.events.replayMany(body);
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.events.get(id);
  }

  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  replay(@Param('id') id: string, @Query() query: ReplayOneQuery) {
    return this.events.replay(id, query.all ?? false);
  }
}
