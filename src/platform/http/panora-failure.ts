import { HttpStatus } from '@nestjs/common';
import { DomainException } from './domain-exception';

export enum PanoraErrorCode {
  Failed = 'PANORA_ERROR',
  NotConfigured = 'PANORA_NOT_CONFIGURED',
}

/** A call to Panora's management API failed: the answer the admin gets. */
export class PanoraFailureException extends DomainException<PanoraErrorCode> {
  protected readonly statuses = {
    [PanoraErrorCode.Failed]: HttpStatus.BAD_GATEWAY,
    [PanoraErrorCode.NotConfigured]: HttpStatus.SERVICE_UNAVAILABLE,
  };
}

/** What the filter reads of a PanoraApiError (src/panora/panora.client.ts). */
interface PanoraApiErrorShape {
  name: 'PanoraApiError';
  message: string;
  failure: string;
  status: number | null;
}

/**
 * The one mapping of a failed call to Panora (a PanoraApiError a service let through) to an
 * answer: 503 PANORA_NOT_CONFIGURED when PANORA_API_KEY is unset, else 502 PANORA_ERROR with what
 * Panora answered (the client's messages never carry the API key), and a hint when Panora refused
 * the key. platform/ sits below panora/, so the error is recognised by its name and fields, as
 * the filter recognises the database's errors by their codes; domain-exception.spec.ts drives
 * this with the real class, so the two cannot drift apart. Anything else: undefined.
 */
export function panoraFailure(error: unknown): PanoraFailureException | undefined {
  if (!isPanoraApiError(error)) return undefined;
  if (error.failure === 'not_configured') {
    return new PanoraFailureException(PanoraErrorCode.NotConfigured, error.message, { cause: error });
  }
  const hint = error.status === 401 || error.status === 403 ? '; check PANORA_API_KEY' : '';
  return new PanoraFailureException(PanoraErrorCode.Failed, `${error.message}${hint}`, { cause: error });
}

function isPanoraApiError(error: unknown): error is PanoraApiErrorShape {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message, failure } = error as Partial<Record<keyof PanoraApiErrorShape, unknown>>;
  return name === 'PanoraApiError' && typeof message === 'string' && typeof failure === 'string';
}
