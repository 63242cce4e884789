import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from '../common/admin-auth.guard';
import {
  CreateEndpointDto,
  EndpointResult,
  EndpointView,
  ImportEndpointDto,
  RotationResult,
  SyncResult,
  UpdateEndpointDto,
} from './endpoints.dto';
import { EndpointsService } from './endpoints.service';

/**
 * The endpoints admin API (`Authorization: Bearer <ADMIN_API_KEYS key>`). Secrets are never
 * returned, only their last 4 characters. An id that is not a UUID names no endpoint: 404, like an
 * unknown or deleted one.
 */
@Controller('admin/endpoints')
@UseGuards(AdminAuthGuard)
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  /** Registers an endpoint at Panora and stores its secret, sealed. */
  @Post()
  create(@Body() dto: CreateEndpointDto): Promise<EndpointResult> {
    return this.endpoints.create(dto);
  }

  /** Adopts an endpoint made in Panora's dashboard; `receiveUrl` is the URL to give Panora. */
  @Post('import')
  import(@Body() dto: ImportEndpointDto): Promise<EndpointResult> {
    return this.endpoints.import(dto);
  }

  /** Compares with Panora's list; reports one-sided endpoints, takes `active` and scope from Panora. */
  @Post('sync')
  @HttpCode(HttpStatus.OK)
  sync(): Promise<SyncResult> {
    return this.endpoints.sync();
  }

  @Get()
  list(): Promise<EndpointView[]> {
    return this.endpoints.list();
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<EndpointView> {
    return this.endpoints.get(id);
  }

  /** Enables or disables the endpoint at Panora, then here. */
  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateEndpointDto): Promise<EndpointResult> {
    return this.endpoints.setActive(id, dto.active);
  }

  /** Deletes at Panora, then soft-deletes here (events are kept); answers the deleted endpoint. */
  @Delete(':id')
  @HttpCode(HttpStatus.OK)
  remove(@Param('id') id: string): Promise<EndpointResult> {
    return this.endpoints.remove(id);
  }

  /** New secret through a replacement Panora endpoint; the old secret verifies for SECRET_ROTATION_GRACE. */
  @Post(':id/rotate')
  @HttpCode(HttpStatus.OK)
  rotate(@Param('id') id: string): Promise<RotationResult> {
    return this.endpoints.rotate(id);
  }
}
