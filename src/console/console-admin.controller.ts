import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { InboxStatsRepository } from '../inbox';
import { AdminAuthGuard, adminAccess, ApiAdminAuth, ApiErrors } from '../platform/http';
import {
  DEAD_GROUPS_EXAMPLE,
  DeadGroupIdsDto,
  DeadGroupIdsQuery,
  DeadGroupsDto,
  DeadGroupsQuery,
  EventCursorDto,
  EventCursorQuery,
  EventIdsDto,
  EventIdsQuery,
  STATS_EXAMPLE,
  StatsDto,
  WhoAmIDto,
} from './console.dto';
import { ConsoleStatsService } from './console-stats.service';

/** The most ids one dead group lists: the console replays them one by one, showing its progress. */
const MAX_GROUP_IDS = 10_000;

/** The admin routes the operator console reads (all GET: read-only keys may use them): the caller, the overview. */
@ApiTags('operations')
@ApiAdminAuth()
@Controller('admin')
@UseGuards(AdminAuthGuard)
export class ConsoleAdminController {
  constructor(private readonly stats: ConsoleStatsService) {}

  @Get('whoami')
  @ApiOperation({
    operationId: 'whoAmI',
    summary: 'What the caller’s admin key may do',
    description: 'full (every route) or read-only (GET routes): the console hides the buttons a key cannot use.',
  })
  @ApiOkResponse({ type: WhoAmIDto, example: { access: 'full' } })
  whoAmI(@Req() request: FastifyRequest): WhoAmIDto {
    return { access: adminAccess(request) ?? 'read-only' };
  }

  @Get('stats')
  @ApiOperation({
    operationId: 'getStats',
    summary: 'Events received, processed, failed and dead per minute over the last hour; backlog and broker',
    description:
      'For the console’s overview, polled every few seconds. Received counts walk the primary key from the ' +
      'first event of the window (found by a binary search over ids, no index on received_at), processed ones ' +
      'the partial index of processed rows; minutes that have ended are kept in memory, so a poll counts only ' +
      'the current minute. Failed and dead are the events in that state now, by the minute of their last failure.',
  })
  @ApiOkResponse({ type: StatsDto, example: STATS_EXAMPLE })
  getStats(): Promise<StatsDto> {
    return this.stats.stats();
  }
}

/** The console's reads of events beyond GET /admin/events: dead letters grouped, lookups. */
@ApiTags('events')
@ApiAdminAuth()
@Controller('admin')
@UseGuards(AdminAuthGuard)
export class ConsoleEventsController {
  constructor(private readonly inboxStats: InboxStatsRepository) {}

  @Get('dead-letters')
  @ApiOperation({
    operationId: 'listDeadGroups',
    summary: 'Dead events grouped by type and error',
    description:
      'Ids (UUIDs) and numbers in the last error are masked so events that died of the same cause fall in one ' +
      'group; largest group first.',
  })
  @ApiOkResponse({ type: DeadGroupsDto, example: DEAD_GROUPS_EXAMPLE })
  @ApiErrors({ 400: 'limit out of 1–500' })
  async deadGroups(@Query() query: DeadGroupsQuery): Promise<DeadGroupsDto> {
    return { groups: await this.inboxStats.deadGroups(query.limit ?? 100) };
  }

  @Get('dead-letters/ids')
  @ApiOperation({
    operationId: 'listDeadGroupIds',
    summary: 'The ids of one group of dead events',
    description: 'Oldest first, at most 10,000: replay them with POST /admin/events/{id}/replay.',
  })
  @ApiOkResponse({ type: DeadGroupIdsDto, example: { ids: ['1040', '1042'], truncated: false } })
  @ApiErrors({ 400: 'type or error missing or too long' })
  async deadGroupIds(@Query() query: DeadGroupIdsQuery): Promise<DeadGroupIdsDto> {
    const ids = await this.inboxStats.deadGroupIds(query.type, query.error, MAX_GROUP_IDS + 1);
    return { ids: ids.slice(0, MAX_GROUP_IDS), truncated: ids.length > MAX_GROUP_IDS };
  }

  @Get('event-ids')
  @ApiOperation({
    operationId: 'findEventIds',
    summary: 'Find the stored deliveries of a Panora id_event',
    description: 'Answers inbox ids (one per endpoint that received it); open one with GET /admin/events/{id}.',
  })
  @ApiOkResponse({ type: EventIdsDto, example: { ids: ['1042'] } })
  @ApiErrors({ 400: 'idEvent missing or too long' })
  async eventIds(@Query() query: EventIdsQuery): Promise<EventIdsDto> {
    return { ids: await this.inboxStats.idsOfIdEvent(query.idEvent) };
  }

  @Get('event-cursor')
  @ApiOperation({
    operationId: 'getEventCursor',
    summary: 'A cursor for the events list that starts at a time',
    description:
      'The list is newest first by id, and ids follow the order of reception: the first id received at or after ' +
      '`before` (a binary search over the primary key) makes its pages start just before that time.',
  })
  @ApiOkResponse({ type: EventCursorDto, example: { cursor: '1042' } })
  @ApiErrors({ 400: 'before is not a date-time' })
  async eventCursor(@Query() query: EventCursorQuery): Promise<EventCursorDto> {
    return { cursor: await this.inboxStats.firstIdSince(new Date(query.before)) };
  }
}
