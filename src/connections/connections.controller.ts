import { Controller, Get, Logger, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminAuthGuard } from '../common/admin-auth.guard';
import { ListConnectionsQuery } from './connections.dto';
import { ConnectionsReconciler } from './connections.reconciler';
import { ConnectionsService } from './connections.service';

/** Connection lookup for sibling services and admins. `Authorization: Bearer <ADMIN_API_KEYS>`. */
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
  async list(@Query() query: ListConnectionsQuery) {
    return { items: await this.connections.list(query) };
  }

  /** Pulls GET /connections from Panora and adds what was missed. */
  @Post('reconcile')
  reconcile() {
    return this.reconciler.reconcile();
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.connections.get(id);
  }

  /** The connection token. Every read is logged (who, which connection), never the token. */
  @Get(':id/token')
  async token(@Param('id') id: string, @Req() request: FastifyRequest) {
    const token = await this.connections.token(id);
    this.logger.log({ idConnection: id, requestId: request.id, remoteAddress: request.ip }, 'Connection token read');
    return token;
  }
}
