import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard, ApiAdminAuth, ApiErrors } from '../../platform/http';
import { CrmKindParams, CrmObjectPageDto, CrmObjectParams, CrmObjectViewDto, ListCrmObjectsQuery } from './crm.dto';
import { CrmQueryService } from './crm-query.service';

/** The CRM projections, read-only. `Authorization: Bearer <one of ADMIN_API_KEYS>`. */
@ApiTags('crm')
@ApiAdminAuth()
@Controller('admin/crm')
@UseGuards(AdminAuthGuard)
export class CrmController {
  constructor(private readonly crm: CrmQueryService) {}

  @Get(':kind')
  @ApiOperation({
    operationId: 'listCrmObjects',
    summary: 'List the objects of a kind',
    description:
      'In change order, each change once; follow nextCursor to read everything, then poll with the last nextCursor ' +
      'for later changes (none is ever skipped). Deleted objects included.',
  })
  @ApiOkResponse({ type: CrmObjectPageDto, description: 'A page of objects' })
  @ApiErrors({
    400: 'Unknown kind (the message lists the kinds), a bad updatedSince, limit or cursor, a cursor of another kind',
  })
  list(@Param() params: CrmKindParams, @Query() query: ListCrmObjectsQuery) {
    return this.crm.list(params.kind, query);
  }

  @Get(':kind/:id')
  @ApiOperation({ operationId: 'getCrmObject', summary: 'One object by Panora id' })
  @ApiOkResponse({ type: CrmObjectViewDto })
  @ApiErrors({ 400: 'Unknown kind', 404: 'No object of this kind with this id' })
  get(@Param() params: CrmObjectParams) {
    return this.crm.get(params.kind, params.id);
  }
}
