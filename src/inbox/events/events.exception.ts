import { HttpStatus } from '@nestjs/common';
import { DomainException } from '../../platform/http';

export enum EventsErrorCode {
  NotFound = 'EVENT_NOT_FOUND',
  Busy = 'EVENT_BUSY',
  PayloadPruned = 'EVENT_PAYLOAD_PRUNED',
  /** A test event's endpoint: unknown, disabled or deleted. */
  EndpointNotFound = 'ENDPOINT_NOT_FOUND',
  NoSample = 'NO_SAMPLE',
  TestEventNotSent = 'TEST_EVENT_NOT_SENT',
  TestEventRejected = 'TEST_EVENT_REJECTED',
  NotListening = 'NOT_LISTENING',
  /** A stream cursor (Last-Event-ID) that is not one. */
  BadCursor = 'BAD_CURSOR',
  /** The service is shutting down: no new streams. */
  StreamClosed = 'STREAM_CLOSED',
}

/** An error of the stored events' admin (read, replay) and of test events. */
export class EventsException extends DomainException<EventsErrorCode> {
  protected readonly statuses = {
    [EventsErrorCode.NotFound]: HttpStatus.NOT_FOUND,
    [EventsErrorCode.Busy]: HttpStatus.CONFLICT,
    [EventsErrorCode.PayloadPruned]: HttpStatus.CONFLICT,
    [EventsErrorCode.EndpointNotFound]: HttpStatus.NOT_FOUND,
    [EventsErrorCode.NoSample]: HttpStatus.BAD_REQUEST,
    [EventsErrorCode.TestEventNotSent]: HttpStatus.BAD_GATEWAY,
    [EventsErrorCode.TestEventRejected]: HttpStatus.BAD_GATEWAY,
    [EventsErrorCode.NotListening]: HttpStatus.SERVICE_UNAVAILABLE,
    [EventsErrorCode.BadCursor]: HttpStatus.BAD_REQUEST,
    [EventsErrorCode.StreamClosed]: HttpStatus.SERVICE_UNAVAILABLE,
  };
}
