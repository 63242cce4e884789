import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { InboxStatsRepository } from '../inbox';
import { AdminAuthGuard, adminAccess, ApiAdminAuth, ApiErrors } from '../platform/http';
import {
  DeadGroupIdsDto,
  DeadGroupIdsQuery,
  DeadGroupsDto,
  DeadGroupsQuery,
  EventCursorDto,
  EventCursorQuery,
  EventIdsDto,
  EventIdsQuery,
  StatsDto,
  WhoAmIDto,
} from './console.dto';
import { ConsoleStatsService } from './console-stats.service';

/** The most ids one dead group lists: the console replays them one by one, showing its progress. */
const MAX_GROUP_IDS = 10_000;

/** The admin routes the operator console reads (all GET: read-only keys may use them). */
@ApiAdminAuth()
@Controller('admin')
@UseGuards(AdminAuthGuard)
export class ConsoleAdminController {
  constructor(
    private readonly stats: ConsoleStatsService,
    private readonly inboxStats: InboxStatsRepository,
  ) {}

  @Get('whoami')
  @ApiTags('operations')
  @ApiOperation({
    operationId: 'whoAmI',
    summary: 'What the caller’s admin key may do',
    description: 'full (every route) or read-only (GET routes): the console hides the buttons a key cannot use.',
  })
  @ApiOkResponse({ type: WhoAmIDto })
  whoAmI(@Req() request: FastifyRequest): WhoAmIDto {
    return { access: adminAccess(request) ?? 'read-only' };
  }

  @Get('stats')
  @ApiTags('operations')
  @ApiOperation({
    operationId: 'getStats',
    summary: 'Events received, processed, failed and dead per minute over the last hour; backlog and broker',
    description:
      'For the console’s overview, polled every few seconds. Received counts walk the primary key from the ' +
      'first event of the window (found by a binary search over ids, no index on received_at), processed ones ' +
      'the partial index of processed rows; minutes that have ended are kept in memory, so a poll counts only ' +
      'the current minute. Failed and dead are the events in that state now, by the minute of their last failure.',
  })
  @ApiOkResponse({ type: StatsDto })
  getStats(): Promise<StatsDto> {
    return this.stats.stats();
  }

  @Get('dead-letters')
  @ApiTags('events')
  @ApiOperation({
    operationId: 'listDeadGroups',
    summary: 'Dead events grouped by type and error',
    description:
      'Ids (UUIDs) and numbers in the last error are masked so events that died of the same cause fall in one ' +
      'group; largest group first.',
  })
  @ApiOkResponse({ type: DeadGroupsDto })
  @ApiErrors({ 400: 'limit out of 1–500' })
  async deadGroups(@Query() query: DeadGroupsQuery): Promise<DeadGroupsDto> {
    return { groups: await this.inboxStats.deadGroups(query.limit ?? 100) };
  }

  @Get('dead-letters/ids')
  @ApiTags('events')
  @ApiOperation({
    operationId: 'listDeadGroupIds',
    summary: 'The ids of one group of dead events',
    description: 'Oldest first, at most 10,000: replay them with POST /admin/events/{id}/replay.',
  })
  @ApiOkResponse({ type: DeadGroupIdsDto })
  @ApiErrors({ 400: 'type or error missing or too long' })
  async deadGroupIds(@Query() query: DeadGroupIdsQuery): Promise<DeadGroupIdsDto> {
    const ids = await this.inboxStats.deadGroupIds(query.type, query.error, MAX_GROUP_IDS + 1);
    return { ids: ids.slice(0, MAX_GROUP_IDS), truncated: ids.length > MAX_GROUP_IDS };
  }

  @Get('event-ids')
  @ApiTags('events')
  @ApiOperation({
    operationId: 'findEventIds',
    summary: 'Find the stored deliveries of a Panora id_event',
    description: 'Answers inbox ids (one per endpoint that received it); open one with GET /admin/events/{id}.',
  })
  @ApiOkResponse({ type: EventIdsDto })
  @ApiErrors({ 400: 'idEvent missing or too long' })
  async eventIds(@Query() query: EventIdsQuery): Promise<EventIdsDto> {
    return { ids: await this.inboxStats.idsOfIdEvent(query.idEvent) };
  }

  @Get('event-cursor')
  @ApiTags('events')
  @ApiOperation({
    operationId: 'getEventCursor',
    summary: 'A cursor for the events list that starts at a time',
    description:
      'The list is newest first by id, and ids follow the order of reception: the first id received at or after ' +
      '`before` (a binary search over the primary key) makes its pages start just before that time.',
  })
  @ApiOkResponse({ type: EventCursorDto })
  @ApiErrors({ 400: 'before is not a date-time' })
  async eventCursor(@Query() query: EventCursorQuery): Promise<EventCursorDto> {
    return { cursor: await this.inboxStats.firstIdSince(new Date(query.before)) };
  }
}
