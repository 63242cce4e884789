import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminAuthGuard, ApiAdminAuth, ApiErrors, ApiPageResponse } from '../../platform/http';
import {
  BulkReplayDto,
  BulkReplayResult,
  EventDetail,
  EventSummary,
  ListEventsQuery,
  ReplayOneQuery,
  ReplayResult,
  StreamEventsQuery,
} from './events.dto';
import { EventsService } from './events.service';
import { openStream } from './event-stream.route';
import { EventStream } from './event-stream.service';

const EVENT_ID = ApiParam({ name: 'id', description: 'Inbox id of the event', example: '1042' });

/** Inspecting and replaying received events. `Authorization: Bearer <one of ADMIN_API_KEYS>`. */
@ApiTags('events')
@ApiAdminAuth()
@Controller('admin/events')
@UseGuards(AdminAuthGuard)
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly stream: EventStream,
  ) {}

  @Get('stream')
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Stream events as they are received and change state (server-sent events)',
    description:
      'Each message: `id:` a cursor, `event:` the status (received, processing, processed, failed, dead), `data:` ' +
      'the event as the list shows it. Send the last id back as `Last-Event-ID` (or `?since=`) to resume: no ' +
      'change after it is missed, none before it repeated; a state an event passed through between two reads may ' +
      'be skipped for the later one. A `: heartbeat` comment every 15 s, with an `id:` of the position reached.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this cursor' })
  @ApiOkResponse({
    description: 'The stream (text/event-stream), open until the client or the service closes it',
    // Only the stream is text/event-stream: its errors are JSON like every other route's.
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'id: 107611-42\nevent: processed\ndata: {"id":"42","idEvent":"f4e1ff72-e727-409a-8935-a63a63d4891e",' +
          '"type":"crm.contact.created","normalizedType":"crm.contact.created","status":"processed","attempts":1}\n\n',
      },
    },
  })
  @ApiErrors({ 400: 'A bad filter or cursor', 503: 'The service is shutting down' })
  streamEvents(
    @Query() query: StreamEventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): void {
    openStream(this.stream, query, lastEventId, request, reply);
  }

  @Get()
  @ApiOperation({ operationId: 'listEvents', summary: 'List received events', description: 'Newest first, by cursor.' })
  @ApiPageResponse(EventSummary, 'A page of events')
  @ApiErrors({ 400: 'A bad filter (unknown status, endpointId not a UUID, limit out of 1–500, bad cursor)' })
  list(@Query() query: ListEventsQuery) {
    return this.events.list(query);
  }

  @Post('replay')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'replayEvents',
    summary: 'Replay every dead (or failed) event',
    description:
      'Queues them again in one statement, optionally of one type, endpoint or time range (`since`, `until` on the ' +
      'time received); their unfinished listeners run again. `dryRun: true` answers how many it would queue and ' +
      'changes nothing. Events whose ' +
      'payload was pruned after the retention period (INBOX_RETENTION_DAYS) are left as they are and counted in `skipped`.',
  })
  @ApiAcceptedResponse({ type: BulkReplayResult })
  @ApiErrors({ 400: 'status is not dead or failed, or a bad filter' })
  replayMany(@Body() body: BulkReplayDto) {
    return this.events.replayMany(body);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getEvent',
    summary: 'One event, with its payload (credentials redacted) and each listener’s outcome',
  })
  @EVENT_ID
  @ApiOkResponse({ type: EventDetail })
  @ApiErrors({ 404: 'No event with this id' })
  get(@Param('id') id: string) {
    return this.events.get(id);
  }

  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'replayEvent',
    summary: 'Replay one event',
    description: 'Its failed or dead listeners run again (every listener with `all=true`).',
  })
  @EVENT_ID
  @ApiAcceptedResponse({ type: ReplayResult })
  @ApiErrors({
    404: 'No event with this id',
    409:
      'The event is being processed right now (try again in a moment), or its payload was pruned after the ' +
      'retention period (INBOX_RETENTION_DAYS) and it cannot run again',
  })
  replay(@Param('id') id: string, @Query() query: ReplayOneQuery) {
    return this.events.replay(id, query.all ?? false);
  }
}
