import { Injectable, Module, Scope, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { Test, type TestingModule } from '@nestjs/testing';
import type { PanoraConnection } from '../panora';
import { ListenerRegistry } from './listener-registry';
import { OnPanoraEvent, OnPanoraEventBatch, PanoraWebhookEvent, PermanentEventError } from './panora-event';

const event = (type: string, inboxId = '1') =>
  new PanoraWebhookEvent(
    type,
    { id: inboxId },
    {
      inboxId,
      endpointId: 'endpoint',
      idEvent: `evt_${inboxId}`,
      deliveredType: type,
      receivedAt: new Date(0),
      attempt: 1,
    },
  );

@Injectable()
class ConnectionListeners {
  readonly calls: string[] = [];

  @OnPanoraEvent('connection.created', 'spec.store')
  async store(e: PanoraWebhookEvent<PanoraConnection>): Promise<void> {
    this.calls.push(`store ${e.meta.inboxId}`);
  }

  @OnPanoraEvent(['connection.created', 'crm.contact.created'], 'spec.refuse')
  async refuse(e: PanoraWebhookEvent<unknown>): Promise<void> {
    this.calls.push(`refuse ${e.meta.inboxId}`);
    throw new PermanentEventError('no id_connection');
  }
}

@Injectable()
class CrmListeners {
  readonly batches: string[][] = [];

  @OnPanoraEventBatch(['crm.contact.created', 'crm.company.created'], 'spec.project')
  async project(events: PanoraWebhookEvent<unknown>[]): Promise<void> {
    this.batches.push(events.map((e) => e.meta.inboxId));
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- a listener may throw anything: it becomes an Error
    if (events.length > 1) throw 'too many at once';
  }
}

@Module({ providers: [ConnectionListeners] })
class ConnectionListenersModule {}

@Module({ providers: [CrmListeners] })
class CrmListenersModule {}

/** A real Nest application context: the registry, the event emitter, and the given listener modules. */
async function start(...imports: Type[]): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule, EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }), ...imports],
    providers: [ListenerRegistry],
  }).compile();
  return moduleRef.init();
}

describe(ListenerRegistry.name, () => {
  const opened: TestingModule[] = [];
  const open = async (...imports: Type[]) => {
    const moduleRef = await start(...imports);
    opened.push(moduleRef);
    return moduleRef;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((moduleRef) => moduleRef.close()));
    jest.restoreAllMocks();
  });

  it('should find single and batch listeners on every provider, in one pass at start-up', async () => {
    const scan = jest.spyOn(ListenerRegistry.prototype as unknown as { scan(): unknown }, 'scan');
    const registry = (await open(ConnectionListenersModule, CrmListenersModule)).get(ListenerRegistry);

    expect(scan).toHaveBeenCalledTimes(1);
    const ids = (type: string) => {
      const { single, batch } = registry.listenersOf(type);
      return { single: single.map((l) => l.id), batch: batch.map((l) => l.id) };
    };
    expect(ids('connection.created')).toEqual({ single: ['spec.store', 'spec.refuse'], batch: [] });
    expect(ids('crm.contact.created')).toEqual({ single: ['spec.refuse'], batch: ['spec.project'] });
    expect(ids('crm.company.created')).toEqual({ single: [], batch: ['spec.project'] });
    expect(ids('crm.deal.created')).toEqual({ single: [], batch: [] });
    // One listener for all its types: a round's events of either type go to it in one call.
    expect(registry.listenersOf('crm.contact.created').batch[0]).toBe(
      registry.listenersOf('crm.company.created').batch[0],
    );
  });

  it('should answer outcomes instead of throwing, keeping a permanent error as it is', async () => {
    const moduleRef = await open(ConnectionListenersModule, CrmListenersModule);
    const registry = moduleRef.get(ListenerRegistry);
    const [store, refuse] = registry.listenersOf('connection.created').single;

    await expect(store.invoke(event('connection.created'))).resolves.toEqual({ listenerId: 'spec.store' });
    const refused = await refuse.invoke(event('connection.created'));
    expect(refused.listenerId).toBe('spec.refuse');
    expect(refused.error).toBeInstanceOf(PermanentEventError);
    expect(refused.error?.message).toBe('no id_connection');

    const [project] = registry.listenersOf('crm.contact.created').batch;
    await expect(project.invoke([event('crm.contact.created', '7')])).resolves.toEqual({ listenerId: 'spec.project' });
    const failed = await project.invoke([event('crm.contact.created', '8'), event('crm.company.created', '9')]);
    expect(failed).toEqual({ listenerId: 'spec.project', error: new Error('too many at once') });
    expect(moduleRef.get(CrmListeners).batches).toEqual([['7'], ['8', '9']]);
  });

  it('should run the single listeners still due through the event emitter and answer their outcomes', async () => {
    const moduleRef = await open(ConnectionListenersModule);
    const registry = moduleRef.get(ListenerRegistry);
    const listeners = moduleRef.get(ConnectionListeners);

    const outcomes = await registry.emit(event('connection.created', '1'), () => true);
    expect(outcomes.map(({ listenerId, error }) => [listenerId, error?.message])).toEqual([
      ['spec.store', undefined],
      ['spec.refuse', 'no id_connection'],
    ]);
    // spec.store succeeded on an earlier attempt: it does not run again.
    await expect(registry.emit(event('connection.created', '2'), (id) => id !== 'spec.store')).resolves.toEqual([
      { listenerId: 'spec.refuse', error: expect.any(PermanentEventError) },
    ]);
    await expect(registry.emit(event('crm.deal.created', '3'), () => true)).resolves.toEqual([]);
    expect(listeners.calls).toEqual(['store 1', 'refuse 1', 'refuse 2']);

    // A subscription gone from the emitter must not pass for a listener that succeeded.
    moduleRef.get(EventEmitter2).removeAllListeners();
    await expect(registry.emit(event('connection.created', '4'), () => true)).rejects.toThrow(
      'No answer from listener(s) spec.store, spec.refuse on panora.connection.created',
    );
  });

  it('should fail start-up on a listener id used twice, naming both methods', async () => {
    @Injectable()
    class Forwarder {
      @OnPanoraEventBatch('crm.contact.created', 'spec.store')
      async forward(_events: PanoraWebhookEvent<unknown>[]): Promise<void> {}
    }
    @Module({ providers: [Forwarder] })
    class ForwarderModule {}

    await expect(start(ConnectionListenersModule, ForwarderModule)).rejects.toThrow(
      'Duplicate Panora listener id "spec.store": on ConnectionListeners.store and on Forwarder.forward',
    );
  });

  it('should fail start-up on a listener of a request-scoped provider, which it could not call', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @OnPanoraEvent('connection.created', 'spec.per-request')
      async handle(_event: PanoraWebhookEvent<unknown>): Promise<void> {}
    }

    await expect(
      Test.createTestingModule({
        imports: [DiscoveryModule, EventEmitterModule.forRoot()],
        providers: [ListenerRegistry, PerRequest],
      })
        .compile()
        .then((moduleRef) => moduleRef.init()),
    ).rejects.toThrow('Panora listeners must be on singleton providers: PerRequest is request-scoped');
  });
});

// The decorators keep their types: the payload type follows the event type, the method returns a promise.
export class Mistyped {
  // @ts-expect-error a connection.created listener gets a PanoraConnection, not a number
  @OnPanoraEvent('connection.created', 'spec.mistyped')
  async handle(_event: PanoraWebhookEvent<number>): Promise<void> {}

  // @ts-expect-error a batch listener gets an array of events
  @OnPanoraEventBatch('crm.contact.created', 'spec.mistyped.batch')
  async batch(_event: PanoraWebhookEvent<unknown>): Promise<void> {}
}
