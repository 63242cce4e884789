import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BatchListenerMetadata, PANORA_BATCH_LISTENER, PanoraWebhookEvent } from './panora-event';

export interface BatchListener {
  id: string;
  types: Set<string>;
  handle: (events: PanoraWebhookEvent[]) => Promise<void>;
}

/** Methods decorated with `@OnPanoraEventBatch` on any provider. */
export function findBatchListeners(discovery: DiscoveryService, metadataScanner: MetadataScanner): BatchListener[] {
  const found: BatchListener[] = [];
  for (const wrapper of discovery.getProviders()) {
    const instance: unknown = wrapper.instance;
    if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
    const prototype = Object.getPrototypeOf(instance) as object;
    for (const name of metadataScanner.getAllMethodNames(prototype)) {
      const method = (instance as Record<string, unknown>)[name];
      if (typeof method !== 'function') continue;
      const metadata = Reflect.getMetadata(PANORA_BATCH_LISTENER, method) as BatchListenerMetadata | undefined;
      if (!metadata) continue;
      found.push({
        id: metadata.listenerId,
        types: new Set(metadata.types),
        handle: (events) => (method as (events: PanoraWebhookEvent[]) => Promise<void>).call(instance, events),
      });
    }
  }
  return found;
}

/** One call for every matching event of the round; on failure, one call per event. */
export async function runBatch(
  listener: BatchListener,
  events: { event: PanoraWebhookEvent; error?: unknown }[],
): Promise<void> {
  const due = events
    .filter(({ event, error }) => !error && listener.types.has(event.type) && event.run.shouldRun(listener.id))
    .map(({ event }) => event);
  if (due.length === 0) return;
  try {
    await listener.handle(due);
    for (const event of due) event.run.recordSuccess(listener.id);
    return;
  } catch (error) {
    if (due.length === 1) {
      due[0].run.recordFailure(listener.id, error);
      return;
    }
  }
  for (const event of due) {
    try {
      await listener.handle([event]);
      event.run.recordSuccess(listener.id);
    } catch (error) {
      event.run.recordFailure(listener.id, error);
    }
  }
}
