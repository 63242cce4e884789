import { createHmac, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EndpointSecretsService } from '../../endpoints';
import { normaliseEventType, sampleEvent } from '../../panora';
import { EventsErrorCode, EventsException } from '../events/events.exception';
import { InboxRepository } from '../inbox.repository';
import type { TestEventResult } from './test-event.dto';

const TIMEOUT_MS = 10_000;

/**
 * Sends a test event the way Panora does: a realistic sample payload of the type, `data` as a JSON
 * string, `Panora-Signature` = hex HMAC-SHA256 of `JSON.stringify(data)` keyed with the endpoint's
 * current secret, posted over HTTP to this instance's own receive route. So it goes through
 * everything a real delivery goes through (signature guard, inbox, dispatcher, listeners), and
 * the secret never leaves the service.
 */
@Injectable()
export class TestEventService {
  private readonly logger = new Logger(TestEventService.name);

  constructor(
    private readonly secrets: EndpointSecretsService,
    private readonly inbox: InboxRepository,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async send(endpointId: string, type: string): Promise<TestEventResult> {
    const keys = await this.secrets.getVerificationKeys(endpointId);
    if (!keys || keys.length === 0) {
      throw new EventsException(
        EventsErrorCode.EndpointNotFound,
        'Unknown, disabled or deleted endpoint (test events go to active endpoints only)',
      );
    }
    const sample = sampleEvent(type);
    if (!sample) throw new EventsException(EventsErrorCode.NoSample, `No sample payload for ${type}`);
    const key = (keys.find((k) => k.expiresAt === null) ?? keys[0]).key;

    const idEvent = randomUUID();
    const data = JSON.stringify(sample.payload);
    const signature = createHmac('sha256', key).update(JSON.stringify(data), 'utf8').digest('hex');
    const url = `${this.ownBaseUrl()}/webhooks/panora/${endpointId}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'panora-signature': signature,
          'user-agent': 'panora-webhooks test-event',
        },
        body: JSON.stringify({ id_event: idEvent, data, type: sample.deliveredType }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new EventsException(
        EventsErrorCode.TestEventNotSent,
        `Could not post the test event to ${url}: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    let answer: unknown = text;
    try {
      answer = JSON.parse(text);
    } catch {
      // kept as text
    }
    if (response.status !== 200) {
      const message = (answer as { message?: unknown })?.message;
      const detail = typeof message === 'string' ? message : JSON.stringify(message ?? text).slice(0, 300);
      throw new EventsException(
        EventsErrorCode.TestEventRejected,
        `The receive route answered ${response.status} to the test event: ${detail}`,
      );
    }
    const row = await this.inbox.findDelivery(endpointId, idEvent);
    if (!row) throw new Error(`test event ${idEvent} answered 200 but is not in the inbox`);
    this.logger.log({ endpointId, eventId: row.id, type: sample.deliveredType }, 'Test event sent');
    return {
      eventId: row.id,
      endpointId,
      idEvent,
      deliveredType: sample.deliveredType,
      normalizedType: normaliseEventType(sample.deliveredType),
      status: row.status,
      receiveAnswer: answer,
    };
  }

  /** This instance's own listening address (a wildcard address is reached through loopback). */
  private ownBaseUrl(): string {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    const address = server.address();
    if (!address || typeof address === 'string') {
      throw new EventsException(EventsErrorCode.NotListening, 'The service is not listening on TCP');
    }
    const host =
      address.address === '0.0.0.0' || address.address === '::'
        ? '127.0.0.1'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
    return `http://${host}:${address.port}`;
  }
}
