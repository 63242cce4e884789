import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../../platform/http';

export enum CrmErrorCode {
  NotFound = 'CRM_OBJECT_NOT_FOUND',
  BadCursor = 'CRM_BAD_CURSOR',
}

/** An error of the CRM read API. */
export class CrmException extends DomainException<CrmErrorCode> {
  protected readonly statuses = {
    [CrmErrorCode.NotFound]: HttpStatus.NOT_FOUND,
    [CrmErrorCode.BadCursor]: HttpStatus.BAD_REQUEST,
  };
}
