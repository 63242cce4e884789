import { Injectable, Module } from '@nestjs/common';
import { OnPanoraEvent, OnPanoraEventBatch, PanoraWebhookEvent } from '../../src/dispatch/panora-event';

/** Listeners whose behaviour tests can steer, recording every call. */
@Injectable()
export class TestListeners {
  readonly calls: { listener: string; inboxId: string; type: string; data: unknown; attempt: number }[] = [];
  /** Per inbox id: how many more times `test.flaky` fails. */
  flakyFailures = 2;
  private readonly flakyLeft = new Map<string, number>();
  brokenHealed = false;

  callsOf(listener: string, inboxId?: string) {
    return this.calls.filter((c) => c.listener === listener && (inboxId === undefined || c.inboxId === inboxId));
  }

  private record(listener: string, event: PanoraWebhookEvent<unknown>) {
    this.calls.push({
      listener,
      inboxId: event.meta.inboxId,
      type: event.type,
      data: event.data,
      attempt: event.meta.attempt,
    });
  }

  @OnPanoraEvent(
    ['connection.created', 'crm.contact.created', 'crm.company.created', 'crm.deal.created', 'crm.contact.pulled'],
    'test.recorder',
  )
  async recorder(event: PanoraWebhookEvent<unknown>): Promise<void> {
    this.record('test.recorder', event);
  }

  @OnPanoraEvent('crm.contact.created', 'test.flaky')
  async flaky(event: PanoraWebhookEvent<unknown>): Promise<void> {
    this.record('test.flaky', event);
    const left = this.flakyLeft.get(event.meta.inboxId) ?? this.flakyFailures;
    if (left > 0) {
      this.flakyLeft.set(event.meta.inboxId, left - 1);
      throw new Error(`flaky failure, ${left - 1} left`);
    }
  }

  /** Every batch call, with the inbox ids it got. */
  readonly batches: string[][] = [];
  /** How long each `test.batch` call takes; static, so it holds from the app's first round on. */
  static batchDelayMs = 0;
  /** The most `test.batch` calls seen running at the same time. */
  maxConcurrentBatches = 0;
  private runningBatches = 0;

  /** Handles rounds at once; a payload with `poison: true` makes the whole call throw. */
  @OnPanoraEventBatch('crm.task.created', 'test.batch')
  async batch(events: PanoraWebhookEvent<unknown>[]): Promise<void> {
    this.batches.push(events.map((e) => e.meta.inboxId));
    this.runningBatches++;
    this.maxConcurrentBatches = Math.max(this.maxConcurrentBatches, this.runningBatches);
    try {
      if (TestListeners.batchDelayMs > 0) await new Promise((done) => setTimeout(done, TestListeners.batchDelayMs));
    } finally {
      this.runningBatches--;
    }
    if (events.some((e) => (e.data as { poison?: boolean }).poison)) throw new Error('poisoned batch');
  }

  @OnPanoraEvent('crm.deal.created', 'test.broken')
  async broken(event: PanoraWebhookEvent<unknown>): Promise<void> {
    this.record('test.broken', event);
    if (!this.brokenHealed) throw new Error('broken listener');
  }
}

@Module({ providers: [TestListeners] })
export class TestListenersModule {}
