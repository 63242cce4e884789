import { Controller, Get, Logger, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AdminAuthGuard, ApiAdminAuth, ApiErrors, ErrorBodyDto } from '../../platform/http';
import {
  ConnectionListDto,
  ConnectionTokenDto,
  ConnectionViewDto,
  ListConnectionsQuery,
  ReconcileReportDto,
} from './connections.dto';
import { ConnectionsReconciler } from './connections.reconciler';
import { ConnectionsService } from './connections.service';

/** Connection lookup for sibling services and admins. `Authorization: Bearer <ADMIN_API_KEYS>`. */
const CONNECTION_ID = ApiParam({ name: 'id', description: "Panora's id_connection" });

@ApiTags('connections')
@ApiAdminAuth()
@Controller('admin/connections')
@UseGuards(AdminAuthGuard)
export class ConnectionsController {
  private readonly logger = new Logger(ConnectionsController.name);

  constructor(
    private readonly connections: ConnectionsService,
    private readonly reconciler: ConnectionsReconciler,
  ) {}

  /** Connections, newest first; never with their tokens. */
  @Get()
  @ApiOperation({
    operationId: 'listConnections',
    summary: 'List connections',
    description: 'Newest first; never with their tokens.',
  })
  @ApiOkResponse({ type: ConnectionListDto })
  @ApiErrors({ 400: 'A bad filter (limit out of 1–500, a value too long)' })
  async list(@Query() query: ListConnectionsQuery) {
    return { items: await this.connections.list(query) };
  }

  /** Pulls GET /connections from Panora and adds what was missed. */
  @Post('reconcile')
  @ApiOperation({
    operationId: 'reconcileConnections',
    summary: "Reconcile with Panora's connections",
    description:
      'GET /connections at Panora; adds the connections whose connection.created was missed (Panora never retries).',
  })
  @ApiCreatedResponse({ type: ReconcileReportDto })
  @ApiErrors({
    409: 'Another instance is reconciling right now',
    502: 'Panora refused or failed (the message says what Panora answered)',
  })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'PANORA_API_KEY is unset' })
  reconcile() {
    // A failure at Panora goes up as it is: the HTTP edge answers 502 with what Panora answered.
    return this.reconciler.reconcile();
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getConnection', summary: 'One connection (without its token)' })
  @CONNECTION_ID
  @ApiOkResponse({ type: ConnectionViewDto })
  @ApiErrors({ 404: 'No such connection' })
  get(@Param('id') id: string) {
    return this.connections.get(id);
  }

  /** The connection token. Every read is logged (who, which connection), never the token. */
  @Get(':id/token')
  @ApiOperation({
    operationId: 'getConnectionToken',
    summary: "A connection's token",
    description: 'For a sibling service about to call Panora’s unified API for this end-user. Every read is logged.',
  })
  @CONNECTION_ID
  @ApiOkResponse({ type: ConnectionTokenDto })
  @ApiErrors({ 404: 'No such connection, or it has no token' })
  async token(@Param('id') id: string, @Req() request: FastifyRequest) {
    const token = await this.connections.token(id);
    this.logger.log({ idConnection: id, requestId: request.id, remoteAddress: request.ip }, 'Connection token read');
    return token;
  }
}
