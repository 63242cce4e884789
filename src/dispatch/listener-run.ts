import type { BatchListener, ListenerOutcome, ListenerRegistry } from './listener-registry';
import type { PanoraWebhookEvent } from './panora-event';

/** What the dispatcher learns from one run of the listeners of an event: the outcomes it collected. */
export class ListenerRun {
  readonly succeeded = new Set<string>();
  readonly failed = new Map<string, Error>();

  /** @param done listeners that already succeeded on an earlier attempt: they do not run again. */
  constructor(private readonly done: ReadonlySet<string> = new Set()) {}

  shouldRun(listenerId: string): boolean {
    return !this.done.has(listenerId);
  }

  record({ listenerId, error }: ListenerOutcome): void {
    if (error) this.recordFailure(listenerId, error);
    else this.recordSuccess(listenerId);
  }

  recordSuccess(listenerId: string): void {
    this.succeeded.add(listenerId);
  }

  recordFailure(listenerId: string, error: unknown): void {
    this.failed.set(listenerId, error instanceof Error ? error : new Error(String(error)));
  }
}

/** An event of the round with the run that collects its outcomes. */
export interface RunningEvent {
  event: PanoraWebhookEvent;
  run: ListenerRun;
  /** Its stored payload would not open: no listener gets it. */
  error?: unknown;
}

/** Per batch listener, the events of the round that it handles and still needs to run, in round order. */
export function dueBatches(
  events: RunningEvent[],
  registry: Pick<ListenerRegistry, 'listenersOf'>,
): Map<BatchListener, RunningEvent[]> {
  const due = new Map<BatchListener, RunningEvent[]>();
  for (const running of events) {
    if (running.error) continue;
    for (const listener of registry.listenersOf(running.event.type).batch) {
      if (!running.run.shouldRun(listener.id)) continue;
      const list = due.get(listener) ?? [];
      due.set(listener, list);
      list.push(running);
    }
  }
  return due;
}

/**
 * Hands a batch listener the events of the round that it handles and still needs to run: one call
 * for all of them; when that call fails, one call per event, so one bad event fails alone.
 */
export async function runBatch(listener: BatchListener, due: RunningEvent[]): Promise<void> {
  if (due.length === 0) return;
  const outcome = await listener.invoke(due.map(({ event }) => event));
  if (!outcome.error || due.length === 1) {
    for (const { run } of due) run.record(outcome);
    return;
  }
  for (const { event, run } of due) run.record(await listener.invoke([event]));
}
