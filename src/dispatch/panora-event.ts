import { OnEvent } from '@nestjs/event-emitter';
import type { PanoraEventType, PanoraPayload } from '../panora';

/**
 * Throw this from a listener when no retry can succeed: the payload lacks what the listener needs
 * (e.g. a `connection.created` without `id_connection`) or has a shape it cannot read. The
 * dispatcher marks the event `dead` at once, with this message as the reason (`lastError`, the
 * listener's status `dead`), instead of retrying it WEBHOOK_MAX_ATTEMPTS times over hours; an
 * operator replays it once the cause is fixed. Anything else a listener throws is taken as
 * transient and retried with backoff.
 */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError';
}

/** True when the error says no retry can succeed. */
export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentEventError;
}

/** What the dispatcher learns from one run of the listeners of an event. */
export class ListenerRun {
  readonly succeeded = new Set<string>();
  readonly failed = new Map<string, Error>();

  /** @param done listeners that already succeeded on an earlier attempt: they do not run again. */
  constructor(private readonly done: ReadonlySet<string> = new Set()) {}

  shouldRun(listenerId: string): boolean {
    return !this.done.has(listenerId);
  }

  recordSuccess(listenerId: string): void {
    this.succeeded.add(listenerId);
  }

  recordFailure(listenerId: string, error: unknown): void {
    this.failed.set(listenerId, error instanceof Error ? error : new Error(String(error)));
  }
}

export interface PanoraEventMeta {
  /** Our inbox row id. */
  inboxId: string;
  endpointId: string;
  /** Panora's `id_event`. */
  idEvent: string;
  /** The type as delivered (e.g. `crm.company.push`). */
  deliveredType: string;
  receivedAt: Date;
  /** 1 on the first attempt. */
  attempt: number;
}

/**
 * A stored, verified Panora delivery, emitted by the dispatcher to the listeners of its normalised
 * type. Listeners subscribe with `@OnPanoraEvent`, never with a bare string.
 */
export class PanoraWebhookEvent<T = unknown> {
  constructor(
    readonly type: string,
    readonly data: T,
    readonly meta: PanoraEventMeta,
    /** @internal the dispatcher's bookkeeping */
    readonly run: ListenerRun = new ListenerRun(),
  ) {}

  static eventName(type: string): string {
    return `panora.${type}`;
  }
}

const LISTENER_IDS = new Set<string>();

/**
 * Subscribes a method to one or more Panora event types. The dispatcher records the outcome per
 * `listenerId` (stable, unique: it is stored with each event), retries a failed listener with
 * backoff, and never runs a listener again for an event it already handled. The method should be
 * idempotent: delivery to listeners is at least once.
 */
export function OnPanoraEvent<K extends PanoraEventType>(types: K | K[], listenerId: string) {
  return (
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<(event: PanoraWebhookEvent<PanoraPayload<K>>) => Promise<void>>,
  ) => {
    if (LISTENER_IDS.has(listenerId)) throw new Error(`Duplicate Panora listener id "${listenerId}"`);
    LISTENER_IDS.add(listenerId);
    const handler = descriptor.value!;
    descriptor.value = async function (this: unknown, event: PanoraWebhookEvent<PanoraPayload<K>>) {
      if (!event.run.shouldRun(listenerId)) return;
      try {
        await handler.call(this, event);
        event.run.recordSuccess(listenerId);
      } catch (error) {
        event.run.recordFailure(listenerId, error);
      }
    };
    // One OnEvent per name: EventEmitter2 reads an array as the segments of one namespaced event.
    for (const type of Array.isArray(types) ? types : [types]) {
      OnEvent(PanoraWebhookEvent.eventName(type), { promisify: true, suppressErrors: false })(target, key, descriptor);
    }
    return descriptor;
  };
}

export const PANORA_BATCH_LISTENER = 'panora:batch-listener';

export interface BatchListenerMetadata {
  types: string[];
  listenerId: string;
}

/**
 * Like `@OnPanoraEvent`, for listeners that handle many events in one go (one transaction for a
 * whole dispatcher round instead of one per event). The dispatcher calls the method with every
 * event of the round that matches and still needs this listener; when the call throws, it calls
 * it again once per event, so one bad event fails alone and the others succeed. Outcomes are
 * recorded per event, exactly as for `@OnPanoraEvent`.
 */
export function OnPanoraEventBatch<K extends PanoraEventType>(types: K | K[], listenerId: string) {
  return (
    _target: object,
    _key: string | symbol,
    descriptor: TypedPropertyDescriptor<(events: PanoraWebhookEvent<PanoraPayload<K>>[]) => Promise<void>>,
  ) => {
    if (LISTENER_IDS.has(listenerId)) throw new Error(`Duplicate Panora listener id "${listenerId}"`);
    LISTENER_IDS.add(listenerId);
    const metadata: BatchListenerMetadata = { types: Array.isArray(types) ? types : [types], listenerId };
    Reflect.defineMetadata(PANORA_BATCH_LISTENER, metadata, descriptor.value!);
    return descriptor;
  };
}
