import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { isTracing } from '../platform/tracing';
import { traceListener } from './dispatch-tracing';
import { ListenerMetadata, PANORA_LISTENER, PanoraWebhookEvent } from './panora-event';

/** What one call of a listener came to: no error is a success. */
export interface ListenerOutcome {
  listenerId: string;
  error?: Error;
}

/** An `@OnPanoraEvent` method, bound to its provider. */
export interface SingleListener {
  readonly id: string;
  /** Calls the method; never throws: a failure is the outcome's error. */
  invoke(event: PanoraWebhookEvent): Promise<ListenerOutcome>;
}

/** An `@OnPanoraEventBatch` method, bound to its provider. */
export interface BatchListener {
  readonly id: string;
  /** Calls the method once with all the events; never throws: a failure is the outcome's error. */
  invoke(events: PanoraWebhookEvent[]): Promise<ListenerOutcome>;
}

export interface TypeListeners {
  single: readonly SingleListener[];
  batch: readonly BatchListener[];
}

/** Lets a single listener run for this event (it has not succeeded on an earlier attempt). */
export type DueCheck = (listenerId: string) => boolean;

const NONE: TypeListeners = { single: [], batch: [] };

/**
 * Every Panora listener of the app, found in one pass over all providers when the modules are
 * initialised (before the dispatcher's first round): the methods `@OnPanoraEvent` and
 * `@OnPanoraEventBatch` mark. A listener id used twice fails start-up, naming both methods.
 *
 * Single listeners run through the app's EventEmitter2 (`panora.<type>`): `emit` answers the
 * outcomes of those still due. Batch listeners are handed to the dispatcher, which gathers a
 * round's events for each.
 */
@Injectable()
export class ListenerRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly byType = new Map<string, { single: SingleListener[]; batch: BatchListener[] }>();
  private readonly subscriptions: { name: string; handler: Parameters<EventEmitter2['off']>[1] }[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly emitter: EventEmitter2,
  ) {}

  onModuleInit(): void {
    const found = [...this.scan()];
    const declaredAt = new Map<string, string>();
    for (const { where, metadata } of found) {
      const earlier = declaredAt.get(metadata.listenerId);
      if (earlier) {
        throw new Error(`Duplicate Panora listener id "${metadata.listenerId}": on ${earlier} and on ${where}`);
      }
      declaredAt.set(metadata.listenerId, where);
    }
    for (const { metadata, instance, method } of found) this.add(metadata, instance, method);
  }

  /** After every onModuleDestroy: the dispatcher has finished its round by then. */
  onApplicationShutdown(): void {
    for (const { name, handler } of this.subscriptions.splice(0)) this.emitter.off(name, handler);
  }

  /** The listeners of a normalised type. */
  listenersOf(type: string): TypeListeners {
    return this.byType.get(type) ?? NONE;
  }

  /**
   * Runs the single listeners of the event's type that `due` lets through; answers their outcomes.
   * Throws (the dispatcher retries the event) if one of them did not answer: its subscription is
   * gone, and the event must not pass for handled.
   */
  async emit(event: PanoraWebhookEvent, due: DueCheck): Promise<ListenerOutcome[]> {
    const expected = this.listenersOf(event.type).single.filter((listener) => due(listener.id));
    if (expected.length === 0) return [];
    const name = PanoraWebhookEvent.eventName(event.type);
    const results: unknown = await this.emitter.emitAsync(name, event, due);
    // Skipped listeners answer nothing; an `@OnEvent` of someone else on the same name is not ours.
    const outcomes = Array.isArray(results) ? results.filter(isOutcome) : [];
    const missing = expected.filter((listener) => !outcomes.some((outcome) => outcome.listenerId === listener.id));
    if (missing.length > 0) {
      throw new Error(`No answer from listener(s) ${missing.map((l) => l.id).join(', ')} on ${name}`);
    }
    return outcomes;
  }

  private add(metadata: ListenerMetadata, instance: object, method: (arg: unknown) => Promise<void>): void {
    const listenerId = metadata.listenerId;
    const types = new Set(metadata.types);
    const run = async (arg: PanoraWebhookEvent | PanoraWebhookEvent[]): Promise<ListenerOutcome> => {
      try {
        await method.call(instance, arg);
        return { listenerId };
      } catch (error) {
        return { listenerId, error: error instanceof Error ? error : new Error(String(error)) };
      }
    };
    const call = (arg: PanoraWebhookEvent | PanoraWebhookEvent[]): Promise<ListenerOutcome> =>
      isTracing() ? traceListener(listenerId, arg, () => run(arg)) : run(arg);
    if (metadata.kind === 'batch') {
      const listener: BatchListener = { id: listenerId, invoke: call };
      for (const type of types) this.listeners(type).batch.push(listener);
      return;
    }
    const listener: SingleListener = { id: listenerId, invoke: call };
    // Its promise is what `emitAsync` collects: the outcome, or nothing for a listener not due.
    const handler = (event: PanoraWebhookEvent, due: DueCheck): Promise<ListenerOutcome | undefined> =>
      due(listenerId) ? listener.invoke(event) : Promise.resolve(undefined);
    // One subscription per name: EventEmitter2 reads an array as the segments of one namespaced event.
    for (const type of types) {
      const name = PanoraWebhookEvent.eventName(type);
      this.listeners(type).single.push(listener);
      /* eslint-disable @typescript-eslint/no-misused-promises -- emitAsync awaits what handlers return */
      this.emitter.on(name, handler);
      this.subscriptions.push({ name, handler });
      /* eslint-enable @typescript-eslint/no-misused-promises */
    }
  }

  private listeners(type: string): { single: SingleListener[]; batch: BatchListener[] } {
    let listeners = this.byType.get(type);
    if (!listeners) this.byType.set(type, (listeners = { single: [], batch: [] }));
    return listeners;
  }

  /** The listener declarations on the methods of every provider, in provider order. */
  private *scan() {
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias) continue; // the same instance under another token
      if (!wrapper.isDependencyTreeStatic()) {
        const prototype = (wrapper.metatype as { prototype?: object } | null)?.prototype;
        if (
          prototype &&
          this.metadataScanner.getAllMethodNames(prototype).some((name) => declared(prototype, name).length > 0)
        ) {
          throw new Error(`Panora listeners must be on singleton providers: ${String(wrapper.name)} is request-scoped`);
        }
        continue;
      }
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      for (const name of this.metadataScanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const method = (instance as Record<string, (arg: unknown) => Promise<void>>)[name];
        for (const metadata of declared(instance, name)) {
          yield { instance, where: `${instance.constructor.name}.${name}`, method, metadata };
        }
      }
    }
  }
}

/** The listener declarations on a method (none when `name` is not one). */
function declared(target: object, name: string): ListenerMetadata[] {
  const method = (target as Record<string, unknown>)[name];
  if (typeof method !== 'function') return [];
  return (Reflect.getMetadata(PANORA_LISTENER, method) as ListenerMetadata[] | undefined) ?? [];
}

function isOutcome(value: unknown): value is ListenerOutcome {
  return typeof value === 'object' && value !== null && typeof (value as ListenerOutcome).listenerId === 'string';
}
