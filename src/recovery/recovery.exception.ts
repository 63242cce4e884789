import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../platform/http';

export enum RecoveryErrorCode {
  /** Another instance is running recovery (its advisory lock is held). */
  Busy = 'RECOVERY_BUSY',
  /** Recovery is off without PANORA_API_KEY (the code a failed call to Panora answers with too). */
  PanoraNotConfigured = 'PANORA_NOT_CONFIGURED',
}

/**
 * An error of the recovery stage. A failed call to Panora is not one: it is recorded as the run's
 * outcome, and goes up as it is (502 PANORA_ERROR) only where an admin asked for it.
 */
export class RecoveryException extends DomainException<RecoveryErrorCode> {
  protected readonly statuses = {
    [RecoveryErrorCode.Busy]: HttpStatus.CONFLICT,
    [RecoveryErrorCode.PanoraNotConfigured]: HttpStatus.SERVICE_UNAVAILABLE,
  };
}
