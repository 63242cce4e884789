import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Env } from '../config/env.schema';
import { PgNotifications } from '../database/pg-notifications.service';
import { Metrics } from '../metrics/metrics.service';
import { SecretBox, SecretBoxError } from '../secrets/secret-box';
import { backoffDelay } from '../common/backoff';
import { INBOX_CHANNEL, InboxWriter } from './inbox-writer.service';
import {
  BatchListenerMetadata,
  isPermanent,
  ListenerRun,
  PANORA_BATCH_LISTENER,
  PanoraWebhookEvent,
  PermanentEventError,
} from './panora-event';
import { revealCredentials } from './payload-secrets';

interface ClaimedRow {
  id: string;
  endpoint_id: string;
  id_event: string;
  type: string;
  normalized_type: string;
  payload: unknown;
  /** Since the event was received, replays included. */
  attempts: number;
  /** `attempts` at the last replay: the retry budget and the backoff count from here. */
  attempts_at_replay: number;
  /** This claim's token (a fresh UUID): the event is ours while it is 'processing' under it. */
  claim_id: string;
  received_at: Date;
  done: string[] | null;
}

/** A claimed event: ours while its status is 'processing' and its claim_id still the claim's. */
interface Claim {
  id: string;
  claimId: string;
}

interface AbandonedRow {
  id: string;
  normalized_type: string;
  attempts: number;
  received_at: Date;
}

interface BatchListener {
  id: string;
  types: Set<string>;
  handle: (events: PanoraWebhookEvent[]) => Promise<void>;
}

interface Outcome {
  row: ClaimedRow;
  status: 'processed' | 'failed' | 'dead';
  /** Dead at once: a listener failed in a way no retry can fix (PermanentEventError). */
  permanent: boolean;
  delayMs: number;
  lastError: string | null;
  listeners: { name: string; status: string; error: string | null }[];
}
const MAX_ERROR_LENGTH = 2_000;
/** Shown on an event given up at claim time: its last attempt never recorded an outcome. */
const STOPPED_WHILE_HANDLING =
  'The process stopped while handling this event: its last attempt (WEBHOOK_MAX_ATTEMPTS reached) never recorded ' +
  'an outcome (a crash or an out-of-memory kill, e.g. on a huge payload); fix the cause, then replay it';

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
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly batchSize: number;
  private readonly batchBytes: number;
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
  private batchListeners: BatchListener[] = [];
  private nextDue?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly emitter: EventEmitter2,
    private readonly secretBox: SecretBox,
    private readonly notifications: PgNotifications,
    private readonly discovery: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly metrics: Metrics,
    private readonly inbox: InboxWriter,
    config: ConfigService<Env, true>,
  ) {
    this.maxAttempts = config.get('WEBHOOK_MAX_ATTEMPTS', { infer: true });
    this.retryBaseMs = config.get('WEBHOOK_RETRY_BASE_MS', { infer: true });
    this.retryMaxMs = config.get('WEBHOOK_RETRY_MAX_MS', { infer: true });
    this.batchSize = config.get('DISPATCH_BATCH_SIZE', { infer: true });
    this.batchBytes = config.get('DISPATCH_BATCH_BYTES', { infer: true });
    this.concurrency = config.get('DISPATCH_CONCURRENCY', { infer: true });
    this.pollMs = config.get('DISPATCH_POLL_MS', { infer: true });
    this.leaseMs = config.get('DISPATCH_LEASE_MS', { infer: true });
    this.yieldMs = config.get('DISPATCH_YIELD_MS', { infer: true });
    this.parallelRounds = config.get('DISPATCH_PARALLEL_ROUNDS', { infer: true });
  }

  onApplicationBootstrap(): void {
    this.batchListeners = this.findBatchListeners();
    this.notifications.subscribe(INBOX_CHANNEL, () => this.wake());
    this.notifications.onReconnect(() => this.wake());
    this.poll = setInterval(() => this.wake(), this.pollMs);
    this.wake(); // events stored before a restart
  }

  /** Methods decorated with `@OnPanoraEventBatch` on any provider. */
  private findBatchListeners(): BatchListener[] {
    const found: BatchListener[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.metadataScanner.getAllMethodNames(prototype)) {
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

  /**
   * The dispatcher's own bookkeeping (claims, outcomes) commits without waiting for the WAL flush:
   * losing it in a crash only means an event is handed to its listeners again, which at-least-once
   * delivery allows; WAL order keeps it from outliving the listeners' own (synchronous) commits.
   * The receiver's inserts are unaffected: every 2xx still follows a flushed commit.
   */
  private bookkeeping<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL synchronous_commit = off');
      return work(manager);
    });
  }

  /**
   * Takes up to DISPATCH_BATCH_SIZE due events, and no more than DISPATCH_BATCH_BYTES of stored
   * payload (at least one event): a round of `*.pulled` events of megabytes each must not all sit
   * in memory at once. Candidates are locked first, sizes read without loading the payloads, and
   * only the chosen ones are claimed; the others are released at commit, untouched.
   *
   * A candidate still 'processing' (its lease ran out) whose attempts already reached
   * WEBHOOK_MAX_ATTEMPTS: its last attempt never recorded an outcome, most likely because it takes
   * the process down. It is marked dead instead of being handed out again, on every instance, forever.
   */
  private async claim(): Promise<{ rows: ClaimedRow[]; more: boolean }> {
    const { rows, more, abandoned } = await this.bookkeeping(async (manager) => {
      const candidates = await manager.query<{ id: string; size: number; abandoned: boolean }[]>(
        `SELECT id, coalesce(pg_column_size(payload), 0) AS size,
                (status = 'processing' AND attempts - attempts_at_replay >= $2) AS abandoned
           FROM webhook_events
          WHERE status IN ('received', 'processing', 'failed') AND next_attempt_at <= now()
          ORDER BY next_attempt_at, id
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [this.batchSize, this.maxAttempts],
      );
      const abandonedIds = candidates.filter((c) => c.abandoned).map((c) => c.id);
      let abandoned: AbandonedRow[] = [];
      if (abandonedIds.length > 0) {
        [abandoned] = await manager.query<[AbandonedRow[], number]>(
          `UPDATE webhook_events SET status = 'dead', last_error = $2, next_attempt_at = now(), claim_id = NULL
            WHERE id = ANY($1::bigint[])
            RETURNING id, normalized_type, attempts, received_at`,
          [abandonedIds, STOPPED_WHILE_HANDLING],
        );
      }
      const chosen: string[] = [];
      let bytes = 0;
      for (const candidate of candidates) {
        if (candidate.abandoned) continue;
        if (chosen.length > 0 && bytes + candidate.size > this.batchBytes) break;
        chosen.push(candidate.id);
        bytes += candidate.size;
      }
      const more = candidates.length === this.batchSize || chosen.length + abandonedIds.length < candidates.length;
      if (chosen.length === 0) return { rows: [], more: more || abandonedIds.length > 0, abandoned };
      // TypeORM answers an UPDATE with [rows, count].
      const [rows] = await manager.query<[ClaimedRow[], number]>(
        `UPDATE webhook_events e
            SET status = 'processing', attempts = e.attempts + 1, claim_id = gen_random_uuid(),
                next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE e.id = ANY($1::bigint[])
          RETURNING e.id, e.endpoint_id, e.id_event, e.type, e.normalized_type, e.payload, e.attempts,
                    e.attempts_at_replay, e.claim_id, e.received_at,
                    (SELECT array_agg(l.listener) FROM webhook_event_listeners l
                      WHERE l.event_id = e.id AND l.status = 'succeeded') AS done`,
        [chosen, this.leaseMs],
      );
      rows.sort((a, b) => Number(a.id) - Number(b.id));
      return { rows, more, abandoned };
    });
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
    const lease = this.keepLease(rows.map((row) => ({ id: row.id, claimId: row.claim_id })));
    let outcomes: Outcome[];
    try {
      const events = rows.map((row) => this.toEvent(row));
      let next = 0;
      const worker = async () => {
        while (next < events.length) await this.emit(events[next++]);
      };
      await Promise.all([
        ...Array.from({ length: Math.min(this.concurrency, events.length) }, worker),
        ...this.batchListeners.map((listener) => this.runBatch(listener, events)),
      ]);
      outcomes = events.map(({ row, event }) => this.outcome(row, event.run));
    } finally {
      await lease.stop();
    }
    const recorded = await this.record(outcomes);
    for (const outcome of recorded) this.logOutcome(outcome);
    this.metrics.eventsDispatched(recorded.map((o) => ({ ...o, receivedAt: o.row.received_at })));
  }

  /**
   * Renews the lease of a round's events every third of DISPATCH_LEASE_MS until `stop()`, so a
   * round that outlives one lease (slow listeners, retries) keeps its events: another instance
   * would otherwise take them and run them twice. One UPDATE per renewal, for events still ours.
   */
  private keepLease(claims: Claim[]): { stop(): Promise<void> } {
    let owned = claims;
    let renewing: Promise<void> | undefined;
    const renew = async () => {
      try {
        const [kept] = await this.bookkeeping((manager) =>
          manager.query<[{ id: string }[], number]>(
            `UPDATE webhook_events e
                SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
               FROM unnest($1::bigint[], $2::uuid[]) AS c(id, claim_id)
              WHERE e.id = c.id AND e.status = 'processing' AND e.claim_id = c.claim_id
              RETURNING e.id`,
            [owned.map((c) => c.id), owned.map((c) => c.claimId), this.leaseMs],
          ),
        );
        if (kept.length < owned.length) {
          const keptIds = new Set(kept.map((k) => String(k.id)));
          const lost = owned.filter((c) => !keptIds.has(String(c.id)));
          owned = owned.filter((c) => keptIds.has(String(c.id)));
          this.logger.warn(
            { eventIds: lost.map((c) => String(c.id)) },
            `Lost the lease of ${lost.length} event(s) of this round (taken over or replayed meanwhile): their outcomes will not be recorded by this instance`,
          );
        }
      } catch (error) {
        // The next renewal tries again; if the lease runs out meanwhile, record() notices.
        this.logger.warn(`Could not renew the lease of a dispatch round: ${(error as Error).message}`);
      }
    };
    const timer = setInterval(
      () => {
        if (renewing || owned.length === 0) return;
        renewing = renew().finally(() => (renewing = undefined));
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    return {
      stop: async () => {
        clearInterval(timer);
        await renewing;
      },
    };
  }

  private toEvent(row: ClaimedRow): { row: ClaimedRow; event: PanoraWebhookEvent; error?: unknown } {
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
      return {
        row,
        event: new PanoraWebhookEvent(row.normalized_type, revealCredentials(row.payload, this.secretBox), meta, run),
      };
    } catch (error) {
      run.recordFailure('dispatcher', payloadError(error));
      return { row, event: new PanoraWebhookEvent(row.normalized_type, null, meta, run), error };
    }
  }

  private async emit({
    row,
    event,
    error,
  }: {
    row: ClaimedRow;
    event: PanoraWebhookEvent;
    error?: unknown;
  }): Promise<void> {
    if (error) return;
    try {
      await this.emitter.emitAsync(PanoraWebhookEvent.eventName(row.normalized_type), event);
    } catch (failure) {
      event.run.recordFailure('dispatcher', failure);
    }
  }

  /** One call for every matching event of the round; on failure, one call per event. */
  private async runBatch(
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

  /**
   * Processed when every listener succeeded. Otherwise dead when a listener failed permanently or
   * this was the last attempt since the event was received or last replayed (every listener that
   * failed is then dead too: nothing retries a dead event; a replay runs them all again), else
   * failed, retried after a backoff.
   */
  private outcome(row: ClaimedRow, run: ListenerRun): Outcome {
    const failed = run.failed.size > 0;
    const permanent = [...run.failed.values()].some(isPermanent);
    const attempt = row.attempts - row.attempts_at_replay;
    const dead = failed && (permanent || attempt >= this.maxAttempts);
    return {
      row,
      status: !failed ? 'processed' : dead ? 'dead' : 'failed',
      permanent,
      delayMs:
        failed && !dead ? backoffDelay(attempt, { baseMs: this.retryBaseMs, maxMs: this.retryMaxMs, jitter: 0.5 }) : 0,
      lastError: failed
        ? [...run.failed]
            .map(
              ([name, error]) =>
                `${name}: ${errorText(error)}${isPermanent(error) ? ' (permanent: not retried; fix the cause, then replay)' : ''}`,
            )
            .join('\n')
            .slice(0, MAX_ERROR_LENGTH)
        : null,
      listeners: [
        ...[...run.succeeded].map((name) => ({ name, status: 'succeeded', error: null as string | null })),
        ...[...run.failed].map(([name, error]) => ({
          name,
          status: dead ? 'dead' : 'failed',
          error: errorText(error),
        })),
      ],
    };
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

  /**
   * Stores the outcomes of a round, per listener and per event, in one transaction, for the
   * events still ours ('processing' under our claim_id); answers those. An event whose
   * lease ran out and that another dispatcher claimed (or an admin replayed) is left alone, with
   * its listener outcomes: what that dispatcher records is the truth.
   */
  private async record(outcomes: Outcome[]): Promise<Outcome[]> {
    const recorded = await this.bookkeeping(async (manager) => {
      const [updated] = await manager.query<[{ id: string }[], number]>(
        `UPDATE webhook_events e
            SET status = u.status, last_error = u.error, claim_id = NULL,
                processed_at = CASE WHEN u.status = 'processed' THEN now() ELSE e.processed_at END,
                next_attempt_at = now() + make_interval(secs => u.delay_ms / 1000)
           FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::double precision[])
                  AS u(id, claim_id, status, error, delay_ms)
          WHERE e.id = u.id AND e.status = 'processing' AND e.claim_id = u.claim_id
          RETURNING e.id`,
        [
          outcomes.map((o) => o.row.id),
          outcomes.map((o) => o.row.claim_id),
          outcomes.map((o) => o.status),
          outcomes.map((o) => o.lastError),
          outcomes.map((o) => o.delayMs),
        ],
      );
      const ours = new Set(updated.map((u) => String(u.id)));
      const kept = outcomes.filter((o) => ours.has(String(o.row.id)));
      const listeners = kept.flatMap((o) => o.listeners.map((l) => ({ ...l, eventId: o.row.id })));
      if (listeners.length > 0) {
        await manager.query(
          `INSERT INTO webhook_event_listeners (event_id, listener, status, attempts, last_error, updated_at)
           SELECT l.event_id, l.name, l.status, 1, l.error, now()
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS l(event_id, name, status, error)
           ON CONFLICT (event_id, listener) DO UPDATE
             SET status = EXCLUDED.status, attempts = webhook_event_listeners.attempts + 1,
                 last_error = EXCLUDED.last_error, updated_at = now()`,
          [
            listeners.map((l) => l.eventId),
            listeners.map((l) => l.name),
            listeners.map((l) => l.status),
            listeners.map((l) => l.error),
          ],
        );
      }
      return kept;
    });
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
    const [next] = await this.dataSource.query<{ ms: number | null }[]>(
      `SELECT extract(epoch FROM (min(next_attempt_at) - now())) * 1000 AS ms
         FROM webhook_events WHERE status IN ('received', 'processing', 'failed')`,
    );
    const ms = next?.ms === null || next?.ms === undefined ? null : Number(next.ms);
    clearTimeout(this.nextDue);
    if (ms !== null && ms < this.pollMs && !this.stopped) {
      this.nextDue = setTimeout(() => this.wake(), Math.max(0, ms) + 5);
    }
  }
}

/**
 * A payload that will not open. Tampered with or corrupted (it does not open with the key it names):
 * no retry can succeed, so it is permanent. Sealed under a key this instance lacks: retried, since
 * the key may be added (SECRETS_KEY_PREVIOUS) or another instance may hold it (a key rotation
 * rolling out); the reason names the key either way.
 */
function payloadError(error: unknown): Error {
  const reason = `the stored payload cannot be opened: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof SecretBoxError && !/is not configured/.test(error.message)) {
    return new PermanentEventError(reason);
  }
  return new Error(
    error instanceof SecretBoxError ? `${reason}; retried until that key is configured on this instance` : reason,
  );
}

function errorText(error: Error): string {
  return (error.message || error.name).slice(0, 500);
}
