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
 * A stored, verified Panora delivery, handed by the dispatcher to the listeners of its normalised
 * type. Listeners subscribe with `@OnPanoraEvent`, never with a bare string.
 */
export class PanoraWebhookEvent<T = unknown> {
  constructor(
    readonly type: string,
    readonly data: T,
    readonly meta: PanoraEventMeta,
  ) {}

  static eventName(type: string): string {
    return `panora.${type}`;
  }
}

/** Set on a listener method by `@OnPanoraEvent` / `@OnPanoraEventBatch`; read by the ListenerRegistry. */
export const PANORA_LISTENER = 'panora:listener';

export interface ListenerMetadata {
  kind: 'single' | 'batch';
  types: string[];
  listenerId: string;
}

/** Adds one listener declaration to the method (a method may carry several). */
function declareListener(method: object, metadata: ListenerMetadata): void {
  const declared = (Reflect.getOwnMetadata(PANORA_LISTENER, method) as ListenerMetadata[] | undefined) ?? [];
  Reflect.defineMetadata(PANORA_LISTENER, [...declared, metadata], method);
}

/**
 * Subscribes a method to one or more Panora event types. The method succeeds by returning and fails
 * by throwing; the dispatcher records the outcome per `listenerId` (stable, unique across the app —
 * start-up fails on a duplicate: it is stored with each event), retries a failed listener with
 * backoff, and never runs a listener again for an event it already handled. The method should be
 * idempotent: delivery to listeners is at least once.
 */
export function OnPanoraEvent<K extends PanoraEventType>(types: K | K[], listenerId: string) {
  return (
    _target: object,
    _key: string | symbol,
    descriptor: TypedPropertyDescriptor<(event: PanoraWebhookEvent<PanoraPayload<K>>) => Promise<void>>,
  ) => {
    declareListener(descriptor.value!, { kind: 'single', types: Array.isArray(types) ? types : [types], listenerId });
    return descriptor;
  };
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
    declareListener(descriptor.value!, { kind: 'batch', types: Array.isArray(types) ? types : [types], listenerId });
    return descriptor;
  };
}
