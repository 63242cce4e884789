import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RmqContext } from '@nestjs/microservices';
import type { BusEvent, EventOf } from '@panora-webhooks/contracts';

/** One handler per routing key, each with its event's type (EnvelopeDeserializer has validated it). */
@Controller()
export class EventsController {
  private readonly logger = new Logger(EventsController.name);
  /** Delivery is at least once: remember what was handled (a real service keeps this in its database). */
  private readonly handled = new Set<string>();

  // `<string>`: the untyped overload, so the handler may take the RmqContext as well.
  @EventPattern<string>('connections.connection.created')
  onConnectionCreated(@Payload() event: EventOf<'connections.connection.created'>, @Ctx() context: RmqContext): void {
    const { idConnection, providerSlug, vertical } = event.data;
    this.handle(event, context, () =>
      this.logger.log(`connection ${idConnection} created: ${providerSlug ?? '?'} (${vertical ?? '?'})`),
    );
  }

  @EventPattern<string>('connections.connection.updated')
  onConnectionUpdated(@Payload() event: EventOf<'connections.connection.updated'>, @Ctx() context: RmqContext): void {
    const { idConnection, status, changed = [] } = event.data;
    this.handle(event, context, () =>
      this.logger.log(`connection ${idConnection} updated (${changed.join(', ')}): status ${status ?? '?'}`),
    );
  }

  @EventPattern<string>('crm.contact.upserted')
  onContactUpserted(@Payload() event: EventOf<'crm.contact.upserted'>, @Ctx() context: RmqContext): void {
    const { id, remoteId, shape, modifiedAt } = event.data;
    this.handle(event, context, () =>
      this.logger.log(`contact ${id} (remote ${remoteId ?? '?'}, ${shape}) upserted, modified ${modifiedAt ?? '?'}`),
    );
  }

  @EventPattern<string>('crm.contact.deleted')
  onContactDeleted(@Payload() event: EventOf<'crm.contact.deleted'>, @Ctx() context: RmqContext): void {
    // `deletedAt` is a timestamp here, never null: the contract of `.deleted` says so.
    const { id, deletedAt } = event.data;
    this.handle(event, context, () => this.logger.log(`contact ${id} deleted at ${deletedAt}`));
  }

  private handle(event: BusEvent, context: RmqContext, apply: () => void): void {
    const channel = context.getChannelRef() as { ack(message: unknown): void };
    const message = context.getMessage();
    if (this.handled.has(event.id)) {
      this.logger.log(`duplicate ${event.type} ${event.id}: already handled`);
    } else {
      const recovered = event.recovered === true ? ' (recovered from Panora)' : '';
      this.logger.log(`${event.type}${recovered} partitionkey=${event.partitionkey} time=${event.time} id=${event.id}`);
      apply();
      this.handled.add(event.id);
    }
    // Ack only after handling: a crash before this gets the message redelivered.
    channel.ack(message);
  }
}
