import { Module } from '@nestjs/common';
import { OutboxModule } from '../../outbox';
import { PanoraForwarder } from './panora-forwarder.listener';

/**
 * Forwards every Panora event, as received (credentials redacted), to the bus as
 * `panora.<type>`: the listener for sibling services that want Panora's own vocabulary.
 */
@Module({
  imports: [OutboxModule],
  providers: [PanoraForwarder],
})
export class ForwardingModule {}
