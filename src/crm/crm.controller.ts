import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from '../common/admin-auth.guard';
import { CrmKindParams, CrmObjectParams, ListCrmObjectsQuery } from './crm.dto';
import { CrmQueryService } from './crm-query.service';

/** The CRM projections, read-only. `Authorization: Bearer <one of ADMIN_API_KEYS>`. */
@Controller('admin/crm')
@UseGuards(AdminAuthGuard)
export class CrmController {
  constructor(private readonly crm: CrmQueryService) {}

  @Get(':kind')
  list(@Param() params: CrmKindParams, @Query() query: ListCrmObjectsQuery) {
    return this.crm.list(params.kind, query);
  }

  @Get(':kind/:id')
  get(@Param() params: CrmObjectParams) {
    return this.crm.get(params.kind, params.id);
  }
}
