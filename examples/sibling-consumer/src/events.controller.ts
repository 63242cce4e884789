import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RmqContext } from '@nestjs/microservices';
import type { EventEnvelope } from './envelope';

@Controller()
export class EventsController {
  private readonly logger = new Logger(EventsController.name);
  /** Delivery is at least once: remember what was handled (a real service keeps this in its database). */
  private readonly handled = new Set<string>();

  // `<string>`: the untyped overload, so the handler may take the RmqContext as well.
  @EventPattern<string>('connections.connection.created')
  onConnectionCreated(@Payload() event: EventEnvelope, @Ctx() context: RmqContext): void {
    this.handle(event, context);
  }

  @EventPattern<string>('crm.contact.upserted')
  onContactUpserted(@Payload() event: EventEnvelope, @Ctx() context: RmqContext): void {
    this.handle(event, context);
  }

  private handle(event: EventEnvelope, context: RmqContext): void {
    const channel = context.getChannelRef() as { ack(message: unknown): void };
    const message = context.getMessage();
    if (this.handled.has(event.id)) {
      this.logger.log(`duplicate ${event.type} ${event.id}: already handled`);
    } else {
      const recovered = event.recovered === true ? ' (recovered from Panora)' : '';
      this.logger.log(
        `${event.type}${recovered} partitionkey=${event.partitionkey} time=${event.time} id=${event.id} data=${JSON.stringify(event.data)}`,
      );
      this.handled.add(event.id);
    }
    // Ack only after handling: a crash before this gets the message redelivered.
    channel.ack(message);
  }
}
