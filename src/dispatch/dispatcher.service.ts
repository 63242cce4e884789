import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PgNotifications } from '../platform/database';
import { SecretBox, revealCredentials } from '../platform/secrets';
import { isTracing } from '../platform/tracing';
import { AbandonedRow, ClaimedRow, DispatchQueueRepository } from './dispatch-queue.repository';
import { INBOX_CHANNEL, InboxSignal, InboxWriter } from '../inbox';
import { keepLease } from './lease';
import { ListenerRegistry } from './listener-registry';
import { dueBatches, ListenerRun, runBatch, RunningEvent } from './listener-run';
import { PanoraWebhookEvent } from './panora-event';
import { decideOutcome, Outcome, payloadError, RetryOptions } from './retry-policy';

import { DispatchMetrics } from './dispatch-metrics';
import { traceDispatch } from './dispatch-tracing';
import { dispatchConfig, type DispatchConfig } from './dispatch.config';
/** A claimed row as its listeners get it, and the run that collects their outcomes. */
interface ClaimedEvent extends RunningEvent {
  row: ClaimedRow;
}

/**
 * Takes stored events from the inbox and hands them to the listeners, at least once, across any
 * number of instances (`FOR UPDATE SKIP LOCKED`). Woken at once by the receiver (same process) or
 * by a PostgreSQL notification (other instances), with a poll as the safety net. Each listener's
 * outcome is recorded; a failed listener is retried with backoff without re-running the ones that
 * succeeded; after WEBHOOK_MAX_ATTEMPTS (counted from the last replay) the event is dead
 * (replayable through the admin API). A listener that throws a PermanentEventError (no retry can
 * succeed: a payload without what it needs, a shape it cannot read) makes the event dead at once.
 *
 * A claim is a lease (DISPATCH_LEASE_MS), renewed while the round runs, so a slow round keeps its
 * events. Each claim has its own token (`claim_id`, a fresh UUID): renewals and outcomes match on
 * it, so a dispatcher that lost its lease (taken over, or replayed and claimed again) never renews
 * or overwrites the claim of the one that holds the event now.
 */
@Injectable()
export class DispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DispatcherService.name);
  private readonly retry: RetryOptions;
  private readonly concurrency: number;
  private readonly pollMs: number;
  /** How long a claimed event stays hidden from other dispatchers (a crash mid-run gives it back). */
  private readonly leaseMs: number;
  private readonly yieldMs: number;
  private readonly parallelRounds: number;
  /** When the last round that did work ended: while deliveries arrive, the next starts yieldMs after it. */
  private lastRoundEndedAt = 0;
  private readonly stopping = new AbortController();
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private poll?: NodeJS.Timeout;
  private nextDue?: NodeJS.Timeout;

  constructor(
    private readonly queue: DispatchQueueRepository,
    private readonly secretBox: SecretBox,
    private readonly notifications: PgNotifications,
    private readonly listeners: ListenerRegistry,
    private readonly metrics: DispatchMetrics,
    private readonly inbox: InboxWriter,
    private readonly inboxSignal: InboxSignal,
    @dispatchConfig.inject() config: DispatchConfig,
  ) {
    this.retry = {
      maxAttempts: config.maxAttempts,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
    };
    this.concurrency = config.concurrency;
    this.pollMs = config.pollMs;
    this.leaseMs = config.leaseMs;
    this.yieldMs = config.yieldMs;
    this.parallelRounds = config.parallelRounds;
  }

  onApplicationBootstrap(): void {
    this.notifications.subscribe(INBOX_CHANNEL, () => this.wake());
    this.inboxSignal.subscribe(() => this.wake());
    this.notifications.onReconnect(() => this.wake());
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.wake(); // events stored before a restart
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearInterval(this.poll);
    clearTimeout(this.nextDue);
    await this.running;
  }

  /** Asks for a dispatch round now; rounds never overlap, a request during one runs another. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /**
   * Runs rounds until nothing is due. A backlog (a round that left more behind) is worked by
   * DISPATCH_PARALLEL_ROUNDS rounds at once, as several instances would (SKIP LOCKED keeps their
   * claims apart) — but only while no delivery is arriving: receiving comes first.
   */
  private async drain(): Promise<void> {
    const helpers: Promise<void>[] = [];
    const addHelpers = () => {
      if (helpers.length > 0 || this.receiving()) return;
      for (let lane = 1; lane < this.parallelRounds; lane++) helpers.push(this.runRounds(lane));
    };
    try {
      await this.runRounds(0, addHelpers);
    } catch (error) {
      this.roundFailed(error);
    }
    for (const result of await Promise.allSettled(helpers)) {
      if (result.status === 'rejected') this.roundFailed(result.reason);
    }
    try {
      await this.scheduleNextDue();
    } catch (error) {
      this.roundFailed(error);
    }
  }

  /** Lane 0 runs until nothing is due; the helper lanes stop as soon as deliveries arrive. */
  private async runRounds(lane: number, onBacklog?: () => void): Promise<void> {
    for (;;) {
      if (lane === 0) await this.yieldToReceiver();
      else if (this.receiving()) return;
      if (this.stopped) return;
      const { rows, more } = await this.claim();
      if (rows.length > 0) await this.processAll(rows);
      if (lane === 0 && rows.length > 0) this.lastRoundEndedAt = Date.now();
      if (!more) return;
      onBacklog?.();
    }
  }

  private roundFailed(error: unknown): void {
    // The database may be down: the poll tries again; nothing claimed is lost (lease).
    this.logger.warn(`Dispatch round failed: ${(error as Error)?.message ?? String(error)}`);
  }

  /** Whether a delivery arrived within the last DISPATCH_YIELD_MS (never, with yielding off). */
  private receiving(): boolean {
    return this.yieldMs > 0 && Date.now() - this.inbox.lastWriteAt < this.yieldMs;
  }

  /**
   * Receiving comes first: Panora sends each event once, so a delivery answered slowly (or shed)
   * costs more than an event processed a little later. While deliveries are arriving, a round
   * starts no sooner than DISPATCH_YIELD_MS after the previous one ended; under a burst the
   * dispatcher takes a share of the machine and the backlog drains once the burst is over. At a
   * trickle, or with nothing arriving, rounds run at once.
   */
  private async yieldToReceiver(): Promise<void> {
    const wait = this.lastRoundEndedAt + this.yieldMs - Date.now();
    if (wait > 0 && this.receiving()) {
      // Cut short by a shutdown, which waits for the running round.
      await sleep(wait, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  /** Claims the next due events (see DispatchQueueRepository.claim); reports those given up. */
  private async claim(): Promise<{ rows: ClaimedRow[]; more: boolean }> {
    const { rows, more, abandoned } = await this.queue.claim();
    this.reportAbandoned(abandoned);
    return { rows, more };
  }

  private reportAbandoned(rows: AbandonedRow[]): void {
    if (rows.length === 0) return;
    for (const row of rows) {
      this.logger.error(
        { eventId: String(row.id), type: row.normalized_type, attempts: row.attempts },
        'Event is dead: the process stopped while handling it on its last attempt',
      );
    }
    this.metrics.eventsDispatched(
      rows.map((row) => ({
        status: 'dead' as const,
        receivedAt: row.received_at,
        listeners: [{ name: 'dispatcher', status: 'dead' }],
      })),
    );
  }

  private async processAll(rows: ClaimedRow[]): Promise<void> {
    const lease = keepLease(
      rows.map((row) => ({ id: row.id, claimId: row.claim_id })),
      this.leaseMs,
      (owned) => this.queue.renewLeases(owned),
      this.logger,
    );
    let outcomes: Outcome[];
    try {
      const events = rows.map((row) => this.toEvent(row));
      const endSpans = isTracing() ? traceDispatch(events) : undefined;
      let next = 0;
      const worker = async () => {
        while (next < events.length) await this.runSingles(events[next++]);
      };
      await Promise.all([
        ...Array.from({ length: Math.min(this.concurrency, events.length) }, worker),
        ...[...dueBatches(events, this.listeners)].map(([listener, due]) => runBatch(listener, due)),
      ]);
      outcomes = events.map(({ row, run }) => decideOutcome(row, run, this.retry));
      endSpans?.(outcomes);
    } finally {
      await lease.stop();
    }
    const recorded = await this.record(outcomes);
    for (const outcome of recorded) this.logOutcome(outcome);
    this.metrics.eventsDispatched(recorded.map((o) => ({ ...o, receivedAt: o.row.received_at })));
  }

  private toEvent(row: ClaimedRow): ClaimedEvent {
    const run = new ListenerRun(new Set(row.done ?? []));
    const meta = {
      inboxId: String(row.id),
      endpointId: row.endpoint_id,
      idEvent: row.id_event,
      deliveredType: row.type,
      receivedAt: row.received_at,
      attempt: row.attempts,
    };
    try {
      const data = revealCredentials(row.payload, this.secretBox);
      return { row, event: new PanoraWebhookEvent(row.normalized_type, data, meta), run };
    } catch (error) {
      run.recordFailure('dispatcher', payloadError(error));
      return { row, event: new PanoraWebhookEvent(row.normalized_type, null, meta), run, error };
    }
  }

  /** Runs the event's single listeners still due (through EventEmitter2) and collects their outcomes. */
  private async runSingles({ event, run, error }: ClaimedEvent): Promise<void> {
    if (error) return;
    try {
      for (const outcome of await this.listeners.emit(event, (id) => run.shouldRun(id))) run.record(outcome);
    } catch (failure) {
      run.recordFailure('dispatcher', failure);
    }
  }

  /** Logged once recorded: an outcome this instance did not get to record is not its to report. */
  private logOutcome({ row, status, permanent, listeners, delayMs, lastError }: Outcome): void {
    if (listeners.length === 0 && (row.done ?? []).length === 0) {
      this.logger.log(
        { eventId: row.id, type: row.type },
        `No listener handles ${row.normalized_type}: marked processed`,
      );
    } else if (status === 'dead') {
      this.logger.error(
        { eventId: row.id, type: row.normalized_type, listeners: listeners.filter((l) => l.error).map((l) => l.name) },
        permanent
          ? `Event is dead: a listener failed permanently (no retry can succeed): ${lastError}`
          : 'Event is dead after the last attempt',
      );
    } else if (status === 'failed') {
      this.logger.warn(
        { eventId: row.id, type: row.normalized_type, attempt: row.attempts, retryInMs: delayMs },
        `Listener failed: ${lastError}`,
      );
    }
  }

  /** Stores the outcomes of the events still ours (see DispatchQueueRepository.recordOutcomes); answers those. */
  private async record(outcomes: Outcome[]): Promise<Outcome[]> {
    const recorded = await this.queue.recordOutcomes(outcomes);
    if (recorded.length < outcomes.length) {
      const lost = outcomes.filter((o) => !recorded.includes(o));
      this.logger.warn(
        { eventIds: lost.map((o) => String(o.row.id)) },
        `Did not record the outcome of ${lost.length} event(s): their lease ran out and another dispatcher took them over (or they were replayed)`,
      );
    }
    return recorded;
  }

  /** Wakes up when the earliest retry falls due, if that is before the next poll. */
  private async scheduleNextDue(): Promise<void> {
    const ms = await this.queue.nextDueInMs();
    clearTimeout(this.nextDue);
    if (ms !== null && ms < this.pollMs && !this.stopped) {
      this.nextDue = setTimeout(() => this.wake(), Math.max(0, ms) + 5);
    }
  }
}
