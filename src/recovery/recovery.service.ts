import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Pacer } from './pacer';
import { recoveryConfig, type RecoveryConfig } from './recovery.config';
import { RecoveryErrorCode, RecoveryException } from './recovery.exception';
import { RecoveryRepository, type MissedEventRow, type MissedStatus, type RunOutcome } from './recovery.repository';
import { emptyDetection, RecoveryDetector, type DetectionReport } from './recovery-detector';
import { RecoveryMetrics } from './recovery-metrics';
import { RecoveryRecoverer } from './recovery-recoverer';
import { RecoveryRun, type RecoveryCounts } from './recovery-run';

/** What `POST /admin/recovery/run` answers. */
export interface RecoveryRunReport {
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string;
  /** After the run: moved forward only by a complete walk. */
  watermark: string | null;
  detection: Omit<DetectionReport, 'found' | 'watermark' | 'error'> & { found: number };
  /** The id_events of the missed events this run found. */
  foundIds: string[];
  recovery: RecoveryCounts;
  /** Why the walk stopped short, or why some recovery failed (the events say each their own). */
  error: string | null;
}

/** A missed event as the admin API shows it. */
export interface MissedEventView {
  idEvent: string;
  type: string;
  normalizedType: string;
  idConnection: string | null;
  provider: string | null;
  panoraTimestamp: string;
  endpointId: string | null;
  reason: string;
  status: MissedStatus;
  attempts: number;
  lastError: string | null;
  detectedAt: string;
  settledAt: string | null;
}

/** What `GET /admin/recovery` answers. */
export interface RecoveryStatus {
  /** False without PANORA_API_KEY. */
  enabled: boolean;
  /** Seconds between scheduled runs; 0 when only run on demand. */
  intervalSeconds: number;
  watermark: string | null;
  lastRun: {
    startedAt: string | null;
    finishedAt: string | null;
    outcome: RunOutcome | null;
    error: string | null;
    counts: Record<string, number> | null;
  } | null;
  counts: Record<MissedStatus, number>;
  items: MissedEventView[];
  nextCursor: string | null;
}

/** Only one instance recovers at a time. */
const RECOVERY_LOCK = 0x70777263;

/**
 * Panora sends each webhook once: a delivery sent while this service was down is gone. Recovery
 * finds those events in Panora's GET /events (RecoveryDetector) and recovers them
 * (RecoveryRecoverer), once at start-up and every RECOVERY_INTERVAL, one instance at a time; off
 * without PANORA_API_KEY. It never blocks receiving: a failing Panora is the run's outcome.
 */
@Injectable()
export class RecoveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RecoveryService.name);
  private readonly pacer: Pacer;
  private readonly stopping = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private running?: Promise<RecoveryRunReport>;

  constructor(
    private readonly repository: RecoveryRepository,
    private readonly detector: RecoveryDetector,
    private readonly recoverer: RecoveryRecoverer,
    private readonly metrics: RecoveryMetrics,
    @recoveryConfig.inject() private readonly config: RecoveryConfig,
  ) {
    this.pacer = new Pacer(config.requestsPerMinute);
  }

  onApplicationBootstrap(): void {
    if (!this.config.enabled) {
      this.logger.log('PANORA_API_KEY is unset: recovery of missed events is off');
      return;
    }
    if (this.config.intervalMs === 0) {
      this.logger.log('RECOVERY_INTERVAL=0: missed events are recovered on POST /admin/recovery/run only');
      return;
    }
    // Once at start-up (whatever was missed while the service was down), then on schedule.
    this.timers = [setTimeout(() => this.scheduled(), 0), setInterval(() => this.scheduled(), this.config.intervalMs)];
    for (const timer of this.timers) timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }

  /** Detects and recovers now; 409 RECOVERY_BUSY while another instance runs. */
  run(): Promise<RecoveryRunReport> {
    if (!this.config.enabled) {
      return Promise.reject(
        new RecoveryException(RecoveryErrorCode.PanoraNotConfigured, 'Recovery needs PANORA_API_KEY'),
      );
    }
    this.running ??= this.locked().finally(() => (this.running = undefined));
    return this.running;
  }

  async status(filter: { status?: MissedStatus; cursor?: string; limit: number }): Promise<RecoveryStatus> {
    const [state, counts, rows] = await Promise.all([
      this.repository.state(),
      this.repository.countsByStatus(),
      this.repository.list(filter, filter.limit + 1),
    ]);
    const page = rows.slice(0, filter.limit);
    return {
      enabled: this.config.enabled,
      intervalSeconds: this.config.intervalMs / 1000,
      watermark: iso(state.watermark),
      lastRun: state.last_run_started_at
        ? {
            startedAt: iso(state.last_run_started_at),
            finishedAt: iso(state.last_run_finished_at),
            outcome: state.last_run_outcome,
            error: state.last_run_error,
            counts: state.last_run_counts,
          }
        : null,
      counts,
      items: page.map(view),
      nextCursor: rows.length > filter.limit ? page[page.length - 1].seq : null,
    };
  }

  private scheduled(): void {
    this.run().catch((error: unknown) => {
      if (error instanceof RecoveryException && error.code === RecoveryErrorCode.Busy) {
        this.logger.log('Another instance is recovering missed events: this run is skipped');
      } else {
        this.logger.warn(`Scheduled recovery failed: ${(error as Error).message}`);
      }
    });
  }

  private async locked(): Promise<RecoveryRunReport> {
    const run = await this.repository.withSessionLock(RECOVERY_LOCK, () => this.once());
    if (!run.locked) {
      this.metrics.runEnded('busy');
      throw new RecoveryException(RecoveryErrorCode.Busy, 'Another instance is recovering missed events right now');
    }
    return run.result;
  }

  private async once(): Promise<RecoveryRunReport> {
    const startedAt = new Date();
    await this.repository.runStarted(startedAt);
    const run = new RecoveryRun(this.pacer, this.stopping.signal);
    let detection: DetectionReport | undefined;
    let outcome: RunOutcome = 'failed';
    let error: string | null = null;
    try {
      detection = await this.detector.detect(this.pacer, this.stopping.signal);
      // A failed walk leaves recovery to the next run: Panora is failing, or the service stopping.
      if (detection.error === null) await this.recoverer.recover(run);
      error = detection.error ?? (run.errors.length > 0 ? run.errors.join('; ') : null);
      outcome = detection.error !== null ? 'failed' : run.counts.failed > 0 ? 'partial' : 'completed';
    } catch (caught) {
      error = this.stopping.signal.aborted ? 'Stopped: the service is shutting down' : (caught as Error).message;
    }
    const { found, watermark, ...d } = detection ?? emptyDetection();
    const walk = {
      complete: d.complete,
      pages: d.pages,
      listed: d.listed,
      delivered: d.delivered,
      received: d.received,
      arrivedLate: d.arrivedLate,
    };
    const counts = { ...walk, complete: Number(walk.complete), found: found.length, ...run.counts };
    await this.repository.runFinished({ outcome, error, counts, watermark: outcome === 'failed' ? null : watermark });
    await this.repository.pruneSettled(this.config.retentionDays);
    this.metrics.runEnded(outcome);
    const state = await this.repository.state();
    const report: RecoveryRunReport = {
      outcome,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      watermark: iso(state.watermark),
      detection: { ...walk, found: found.length },
      foundIds: found,
      recovery: run.counts,
      error,
    };
    const log = { outcome, found: found.length, recovery: run.counts, ...(error ? { error } : {}) };
    if (outcome === 'completed') this.logger.log(log, 'Recovery run done');
    else this.logger.warn(log, `Recovery run ${outcome}`);
    return report;
  }
}

const iso = (at: Date | null): string | null => (at ? new Date(at).toISOString() : null);

function view(row: MissedEventRow): MissedEventView {
  return {
    idEvent: row.id_event,
    type: row.type,
    normalizedType: row.normalized_type,
    idConnection: row.id_connection,
    provider: row.provider,
    panoraTimestamp: iso(row.panora_timestamp)!,
    endpointId: row.endpoint_id,
    reason: row.reason,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    detectedAt: iso(row.detected_at)!,
    settledAt: iso(row.settled_at),
  };
}
