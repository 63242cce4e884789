import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AdminAuthGuard, ApiAdminAuth, ApiErrors, ErrorBodyDto } from '../platform/http';
import { SyncResult } from './endpoint-sync.dto';
import { EndpointResult, EndpointView, ImportResult, RotationResult } from './endpoint-views.dto';
import { CreateEndpointDto, ImportEndpointDto, UpdateEndpointDto } from './endpoints.dto';
import { EndpointImportService } from './endpoint-import.service';
import { EndpointRegistrationService } from './endpoint-registration.service';
import { EndpointSyncService } from './endpoint-sync.service';
import { EndpointsService } from './endpoints.service';

/**
 * The endpoints admin API (`Authorization: Bearer <ADMIN_API_KEYS key>`). Secrets are never
 * returned, only their last 4 characters. An id that is not a UUID names no endpoint: 404, like an
 * unknown or deleted one.
 */
const ENDPOINT_ID = ApiParam({ name: 'id', format: 'uuid', description: 'The endpoint (this service’s id)' });
const NOT_FOUND = 'Unknown or deleted endpoint (or an id that is not a UUID)';
const PANORA_DOWN = 'Panora refused or failed (the message says what Panora answered); nothing was changed here';
/** 503 when PANORA_API_KEY is unset, for routes that call Panora. */
const PANORA_UNSET = ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'PANORA_API_KEY is unset' });
/** Changes of one endpoint never overlap: a second one while the first is under way is refused. */
const BUSY =
  'Another change to this endpoint is in progress (code ENDPOINT_CHANGE_IN_PROGRESS): retry when it has finished';

@ApiTags('endpoints')
@ApiAdminAuth()
@Controller('admin/endpoints')
@UseGuards(AdminAuthGuard)
export class EndpointsController {
  constructor(
    private readonly endpoints: EndpointsService,
    private readonly registration: EndpointRegistrationService,
    private readonly imports: EndpointImportService,
    private readonly syncs: EndpointSyncService,
  ) {}

  /** Registers an endpoint at Panora and stores its secret, sealed. */
  @Post()
  @ApiOperation({
    operationId: 'createEndpoint',
    summary: 'Register an endpoint at Panora',
    description:
      'Creates the endpoint here, registers it at Panora (POST /webhooks) and stores the secret Panora returns, sealed.',
  })
  @ApiCreatedResponse({ type: EndpointResult })
  @ApiErrors({
    400:
      'Unknown scopes (named), an empty scope, a URL that is not https:// (http:// only for localhost), or no url ' +
      'while PUBLIC_BASE_URL is a public http:// URL',
    502: PANORA_DOWN,
  })
  @PANORA_UNSET
  create(@Body() dto: CreateEndpointDto): Promise<EndpointResult> {
    return this.registration.create(dto);
  }

  /**
   * Adopts an endpoint made in Panora's dashboard; `receiveUrl` is the URL to give Panora. Imported
   * again with the same Panora id (a secret changed in the dashboard), it updates that endpoint.
   * Always 201 (the answer a first import always gave, so callers need no second case): `outcome`
   * says what was done.
   */
  @Post('import')
  @ApiOperation({
    operationId: 'importEndpoint',
    summary: "Import an endpoint made in Panora's dashboard",
    description:
      'Stores its secret, sealed; no call to Panora. The answer’s `receiveUrl` is the URL to paste into Panora. ' +
      'Importing again with the same id_webhook_endpoint (the secret was changed in Panora’s dashboard) updates ' +
      'that endpoint instead: the new secret is current, the previous one verifies for SECRET_ROTATION_GRACE ' +
      'seconds, a scope or url given replaces the stored one, the endpoint keeps its id and receive URL. ' +
      'The current secret again changes nothing. `outcome` says which happened.',
  })
  @ApiCreatedResponse({
    type: ImportResult,
    description: 'The endpoint: a new one (`outcome: created`), or the one already imported with this Panora id',
  })
  @ApiErrors({
    400: 'A missing or too short secret, unknown scopes, or a URL that is not https://',
    409: BUSY,
  })
  import(@Body() dto: ImportEndpointDto): Promise<ImportResult> {
    return this.imports.import(dto);
  }

  /** Compares with Panora's list; reports one-sided endpoints, takes `active` and scope from Panora. */
  @Post('sync')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'syncEndpoints',
    summary: "Compare with Panora's endpoints",
    description: 'GET /webhooks at Panora: takes active and scope from Panora, reports one-sided endpoints.',
  })
  @ApiOkResponse({ type: SyncResult })
  @ApiErrors({ 502: PANORA_DOWN })
  @PANORA_UNSET
  sync(): Promise<SyncResult> {
    return this.syncs.sync();
  }

  @Get()
  @ApiOperation({ operationId: 'listEndpoints', summary: 'List endpoints (not deleted ones)' })
  @ApiOkResponse({ type: [EndpointView] })
  list(): Promise<EndpointView[]> {
    return this.endpoints.list();
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getEndpoint', summary: 'One endpoint' })
  @ENDPOINT_ID
  @ApiOkResponse({ type: EndpointView })
  @ApiErrors({ 404: NOT_FOUND })
  get(@Param('id') id: string): Promise<EndpointView> {
    return this.endpoints.get(id);
  }

  /** Enables or disables the endpoint at Panora, then here. */
  @Patch(':id')
  @ApiOperation({
    operationId: 'updateEndpoint',
    summary: 'Enable or disable an endpoint',
    description: 'PUT /webhooks/:id {active} at Panora when the endpoint has a Panora id, then here.',
  })
  @ENDPOINT_ID
  @ApiOkResponse({ type: EndpointResult })
  @ApiErrors({ 400: 'active is not a boolean', 404: NOT_FOUND, 409: BUSY, 502: PANORA_DOWN })
  @PANORA_UNSET
  update(@Param('id') id: string, @Body() dto: UpdateEndpointDto): Promise<EndpointResult> {
    return this.registration.setActive(id, dto.active);
  }

  /** Deletes at Panora, then soft-deletes here (events are kept); answers the deleted endpoint. */
  @Delete(':id')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'deleteEndpoint',
    summary: 'Delete an endpoint',
    description:
      'DELETE /webhooks/:id at Panora (one Panora no longer knows counts as deleted), then a soft delete here: ' +
      'events are kept, secrets erased.',
  })
  @ENDPOINT_ID
  @ApiOkResponse({ type: EndpointResult, description: 'The deleted endpoint' })
  @ApiErrors({ 404: NOT_FOUND, 409: BUSY, 502: PANORA_DOWN })
  @PANORA_UNSET
  remove(@Param('id') id: string): Promise<EndpointResult> {
    return this.registration.remove(id);
  }

  /** New secret through a replacement Panora endpoint; the old secret verifies for SECRET_ROTATION_GRACE. */
  @Post(':id/rotate')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'rotateEndpointSecret',
    summary: "Rotate an endpoint's secret",
    description:
      'Registers a replacement endpoint at Panora (same URL and scope) and makes its secret current; the old one ' +
      'verifies for SECRET_ROTATION_GRACE seconds, then the old endpoint is disabled at Panora.',
  })
  @ENDPOINT_ID
  @ApiOkResponse({ type: RotationResult })
  @ApiErrors({
    404: NOT_FOUND,
    409: `Not rotatable here (no Panora id, URL or scope) or disabled; or: ${BUSY}`,
    502: PANORA_DOWN,
  })
  @PANORA_UNSET
  rotate(@Param('id') id: string): Promise<RotationResult> {
    return this.registration.rotate(id);
  }
}
