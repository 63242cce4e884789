import type { HttpStatus } from '@nestjs/common';

/**
 * An error a module raises on purpose, named by a code of the module's own enum (twenty's module
 * exceptions are the model). Each module declares once, in its subclass, the HTTP status each of
 * its codes answers with; services throw it knowing nothing else of HTTP, and the exception
 * filter answers it as `{statusCode, error, message, code}`. The message is written for the
 * admin who made the request: it is answered as is, whatever the status.
 *
 * ```ts
 * export class EndpointException extends DomainException<EndpointErrorCode> {
 *   protected readonly statuses = { [EndpointErrorCode.NotFound]: HttpStatus.NOT_FOUND, ... };
 * }
 * throw new EndpointException(EndpointErrorCode.NotFound, 'No such endpoint');
 * ```
 */
export abstract class DomainException<C extends string = string> extends Error {
  /** The module's one table: the status each of its codes answers with. */
  protected abstract readonly statuses: Readonly<Record<C, HttpStatus>>;

  constructor(
    readonly code: C,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What the answer's `message` says: the message, unless the module adds to it. */
  get answer(): string {
    return this.message;
  }

  /** The status this exception's code answers with. */
  get httpStatus(): number {
    return this.statuses[this.code];
  }
}

/** True for any module's DomainException (typed with its code as a string). */
export function isDomainException(error: unknown): error is DomainException {
  return error instanceof DomainException;
}
