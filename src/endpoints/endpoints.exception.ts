import { HttpStatus } from '@nestjs/common';
import { AppException } from '../platform/http';
import { PanoraApiError } from '../panora';

export enum EndpointErrorCode {
  NotFound = 'ENDPOINT_NOT_FOUND',
  NotRotatable = 'ENDPOINT_NOT_ROTATABLE',
  BadPublicUrl = 'PUBLIC_BASE_URL_NOT_HTTPS',
  PanoraError = 'PANORA_ERROR',
  PanoraNotConfigured = 'PANORA_NOT_CONFIGURED',
  ChangeInProgress = 'ENDPOINT_CHANGE_IN_PROGRESS',
}

/** 404 for an unknown, deleted or malformed endpoint id. */
export function endpointNotFound(): AppException {
  return new AppException(HttpStatus.NOT_FOUND, 'No such endpoint', EndpointErrorCode.NotFound);
}

/** Turns a Panora failure into the answer the admin sees: 502 with Panora's status (503 when unset). */
export function panoraFailure(error: unknown, note = ''): unknown {
  if (!(error instanceof PanoraApiError)) return error;
  if (error.failure === 'not_configured') {
    return new AppException(HttpStatus.SERVICE_UNAVAILABLE, error.message, EndpointErrorCode.PanoraNotConfigured);
  }
  const hint = error.status === 401 || error.status === 403 ? '; check PANORA_API_KEY' : '';
  return new AppException(HttpStatus.BAD_GATEWAY, `${error.message}${hint}${note}`, EndpointErrorCode.PanoraError);
}
