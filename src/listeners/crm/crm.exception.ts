import { HttpStatus } from '@nestjs/common';
import { AppException } from '../../platform/http';

export enum CrmErrorCode {
  NotFound = 'CRM_OBJECT_NOT_FOUND',
  BadCursor = 'CRM_BAD_CURSOR',
}

const STATUS: Record<CrmErrorCode, HttpStatus> = {
  [CrmErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [CrmErrorCode.BadCursor]: HttpStatus.BAD_REQUEST,
};

/** An error of the CRM read API, with the status its code maps to. */
export class CrmException extends AppException {
  constructor(code: CrmErrorCode, message: string) {
    super(STATUS[code], message, code);
  }
}
