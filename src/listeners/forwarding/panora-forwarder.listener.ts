import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OnPanoraEventBatch, type PanoraWebhookEvent } from '../../dispatch';
import { ALL_EVENT_TYPES } from '../../panora';
import { NOT_FORWARDED, type ForwardedEventData } from '../../contracts';
import { redactCredentials } from '../../platform/secrets';
import { OutboxService } from '../../outbox';

// NOT_FORWARDED (src/contracts): Panora's `crm.<kind>.deleted` is the projection's name, sent only
// when a delete really applied; Panora's own event of that name is not forwarded (its `type` is not
// covered by the signature: any signed object can be relabelled `.deleted`).

/**
 * Puts every known Panora event on the bus under its normalised type (`crm.company.created` for
 * a `crm.company.push` delivery, `ticketing.ticket.pulled`, …), for siblings that want Panora's
 * own events rather than this service's projections. Credentials are redacted at any depth: a
 * connection token never travels on the bus (siblings read it from GET /admin/connections/:id/token).
 * An event whose `type` does not fit its data is forwarded all the same (as delivered), with a
 * warning in the log.
 */
@Injectable()
export class PanoraForwarder {
  private readonly logger = new Logger(PanoraForwarder.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
  ) {}

  @OnPanoraEventBatch([...ALL_EVENT_TYPES], 'bus.forward')
  async forward(events: PanoraWebhookEvent<unknown>[]): Promise<void> {
    for (const event of events) {
      const misfit = typeMisfit(event.type, event.data);
      if (misfit) {
        // Values never: the type, what was expected and what came.
        this.logger.warn(
          { eventId: event.meta.inboxId, type: event.type, deliveredType: event.meta.deliveredType.slice(0, 100) },
          `Delivered type ${event.type} does not fit its data: ${misfit} (Panora's signature does not cover type)`,
        );
      }
    }
    const forwarded = events.filter((event) => !NOT_FORWARDED.has(event.type));
    if (forwarded.length === 0) return;
    await this.dataSource.transaction((manager) =>
      this.outbox.enqueue(
        manager,
        forwarded.map((event) => ({
          // The same id each time this event is forwarded: a re-run after a crash (at-least-once
          // dispatch) writes nothing, instead of a second message consumers could not dedupe.
          id: stableUuid(`panora-event:${event.meta.endpointId}:${event.meta.idEvent}`),
          type: event.type,
          key: `panora-event:${event.meta.endpointId}:${event.meta.idEvent}`,
          occurredAt: event.meta.receivedAt,
          data: {
            idEvent: event.meta.idEvent,
            endpointId: event.meta.endpointId,
            deliveredType: event.meta.deliveredType,
            receivedAt: event.meta.receivedAt.toISOString(),
            payload: redactCredentials(event.data),
          } satisfies ForwardedEventData,
        })),
      ),
    );
  }
}

/**
 * What is wrong when a (normalised) type does not fit the shape of its data, or null when it
 * fits: `*.pulled` carries an array of rows, `connection.created` an object with an
 * `id_connection`, every other type one object. Describes shapes only, never values.
 */
export function typeMisfit(type: string, data: unknown): string | null {
  const got = describeShape(data);
  if (type.endsWith('.pulled')) return Array.isArray(data) ? null : `expected an array of rows, got ${got}`;
  if (!isObject(data)) return `expected one object, got ${got}`;
  if (type === 'connection.created') {
    const id = data.id_connection;
    return typeof id === 'string' && id !== '' ? null : 'expected a connection, got an object without id_connection';
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeShape(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A UUID (version 8, RFC 9562) derived from `text` with SHA-256. */
export function stableUuid(text: string): string {
  const bytes = createHash('sha256').update(text, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
