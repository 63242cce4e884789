import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../platform/http';
import { PanoraApiError } from '../panora';

export enum EndpointErrorCode {
  NotFound = 'ENDPOINT_NOT_FOUND',
  NotRotatable = 'ENDPOINT_NOT_ROTATABLE',
  BadPublicUrl = 'PUBLIC_BASE_URL_NOT_HTTPS',
  ChangeInProgress = 'ENDPOINT_CHANGE_IN_PROGRESS',
}

/**
 * An error of the registration module. A failed call to Panora is not one: the PanoraApiError
 * goes up as it is, a domain exception of its own (502 PANORA_ERROR, 503 PANORA_NOT_CONFIGURED).
 */
export class EndpointException extends DomainException<EndpointErrorCode> {
  protected readonly statuses = {
    [EndpointErrorCode.NotFound]: HttpStatus.NOT_FOUND,
    [EndpointErrorCode.NotRotatable]: HttpStatus.CONFLICT,
    [EndpointErrorCode.BadPublicUrl]: HttpStatus.BAD_REQUEST,
    [EndpointErrorCode.ChangeInProgress]: HttpStatus.CONFLICT,
  };
}

/** 404 for an unknown, deleted or malformed endpoint id. */
export function endpointNotFound(): EndpointException {
  return new EndpointException(EndpointErrorCode.NotFound, 'No such endpoint');
}

/**
 * The same Panora failure, its message followed by what the registration found out since (Panora
 * may have acted anyway): answered as any failure of Panora.
 */
export function withNote(error: PanoraApiError, note: string): PanoraApiError {
  return new PanoraApiError({
    failure: error.failure,
    route: error.route,
    status: error.status,
    panoraMessage: error.panoraMessage,
    mayHaveActed: error.mayHaveActed,
    message: `${error.message}${note}`,
  });
}
