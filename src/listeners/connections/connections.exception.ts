import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../../platform/http';

export enum ConnectionsErrorCode {
  NotFound = 'CONNECTION_NOT_FOUND',
  NoToken = 'NO_TOKEN',
  ReconcileBusy = 'RECONCILE_BUSY',
  /** Reconciliation is off without PANORA_API_KEY (the code a failed call to Panora answers with too). */
  PanoraNotConfigured = 'PANORA_NOT_CONFIGURED',
}

/**
 * An error of the connections module. A failed call to Panora is not one: the PanoraApiError goes
 * up as it is, a domain exception of its own (502 PANORA_ERROR).
 */
export class ConnectionsException extends DomainException<ConnectionsErrorCode> {
  protected readonly statuses = {
    [ConnectionsErrorCode.NotFound]: HttpStatus.NOT_FOUND,
    [ConnectionsErrorCode.NoToken]: HttpStatus.NOT_FOUND,
    [ConnectionsErrorCode.ReconcileBusy]: HttpStatus.CONFLICT,
    [ConnectionsErrorCode.PanoraNotConfigured]: HttpStatus.SERVICE_UNAVAILABLE,
  };
}
