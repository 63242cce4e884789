import { Injectable, Logger } from '@nestjs/common';
import { EndpointsService, type ActiveEndpointScope } from '../endpoints';
import { InboxRepository } from '../inbox';
import { PanoraApiError, PanoraClient, type PanoraEventRow } from '../panora';
import { deliveredType, missedReason, subscribedEndpoint } from './missed-events';
import type { Pacer } from './pacer';
import { recoveryConfig, type RecoveryConfig } from './recovery.config';
import { RecoveryRepository, type NewMissedEvent } from './recovery.repository';
import { messageOf } from './recovery-run';

/** What one walk of Panora's GET /events found. */
export interface DetectionReport {
  /** The walk went back as far as it had to (the watermark less the overlap, or the lookback). */
  complete: boolean;
  /** The new watermark when complete: the newest point the walk covered. */
  watermark: Date | null;
  /** Pages of GET /events read. */
  pages: number;
  /** Distinct events Panora listed in the window walked. */
  listed: number;
  /** Of those, the webhooks Panora sent to one of our active endpoints. */
  delivered: number;
  /** Of those, the ones the inbox holds. */
  received: number;
  /** Missed events recorded by this walk (not recorded before). */
  found: string[];
  /** Missed events (of any run) whose delivery has turned up since: marked `arrived_late`. */
  arrivedLate: number;
  /** Why the walk stopped short (Panora failed): the watermark stays. */
  error: string | null;
}

/** A walk that has found nothing yet (and the report of a run that failed before walking). */
export function emptyDetection(): DetectionReport {
  return {
    complete: false,
    watermark: null,
    pages: 0,
    listed: 0,
    delivered: 0,
    received: 0,
    found: [],
    arrivedLate: 0,
    error: null,
  };
}

/** Missed events, at most, whose late delivery each run looks for. */
const LATE_CHECK_LIMIT = 5000;

/**
 * The detecting half of a run: walks Panora's events newest first, page by page, down to the
 * watermark less the overlap; keeps the webhooks Panora sent to one of our active endpoints; and
 * records those the inbox never received. Panora lists no payload and filters nothing server-side
 * (panora-recovery-facts.md §1, §4): all of it is done here.
 */
@Injectable()
export class RecoveryDetector {
  private readonly logger = new Logger(RecoveryDetector.name);

  constructor(
    private readonly repository: RecoveryRepository,
    private readonly panora: PanoraClient,
    private readonly endpoints: EndpointsService,
    private readonly inbox: InboxRepository,
    @recoveryConfig.inject() private readonly config: RecoveryConfig,
  ) {}

  async detect(pacer: Pacer, signal: AbortSignal): Promise<DetectionReport> {
    const report = emptyDetection();
    const { watermark } = await this.repository.state();
    const now = Date.now();
    // Younger events may be on their way right now: the next walk covers them (it goes back past the watermark).
    const upTo = now - this.config.settleMs;
    const floor = watermark ? watermark.getTime() - this.config.overlapMs : now - this.config.lookbackMs;
    const endpoints = (await this.endpoints.activeScopes()).filter((endpoint) => endpoint.scope.length > 0);
    if (endpoints.length > 0) {
      try {
        await this.walk(pacer, signal, { floor, upTo, endpoints }, report);
      } catch (error) {
        if (signal.aborted) report.error = 'Stopped: the service is shutting down';
        else report.error = `Panora's GET /events failed (page ${report.pages + 1}): ${messageOf(error)}`;
        // Rate-limited even after the client's retries: the next calls wait what Panora asked.
        if (error instanceof PanoraApiError && error.status === 429) pacer.pause(error.retryAfterMs ?? 60_000);
      }
    }
    // No active endpoint: Panora sent us nothing, and the window is covered all the same.
    if (report.error === null) {
      report.complete = true;
      report.watermark = new Date(upTo);
    }
    report.arrivedLate = await this.markLateArrivals();
    return report;
  }

  private async walk(
    pacer: Pacer,
    signal: AbortSignal,
    window: { floor: number; upTo: number; endpoints: readonly ActiveEndpointScope[] },
    report: DetectionReport,
  ): Promise<void> {
    const seen = new Set<string>();
    for (let page = 1; ; page++) {
      await pacer.turn(signal);
      const rows = await this.panora.listEvents(page, this.config.pageSize);
      report.pages++;
      if (rows.length === 0) return;
      const candidates: NewMissedEvent[] = [];
      let reachedFloor = false;
      for (const row of rows) {
        const at = Date.parse(row.timestamp);
        // Newest first: every later row is older still.
        if (at < window.floor) {
          reachedFloor = true;
          break;
        }
        // Rows inserted at the head while walking push older ones onto the next page: duplicates, never gaps.
        if (seen.has(row.id_event)) continue;
        seen.add(row.id_event);
        if (at > window.upTo) continue;
        report.listed++;
        const candidate = this.candidate(row, window.endpoints);
        if (candidate) candidates.push(candidate);
      }
      report.delivered += candidates.length;
      await this.record(candidates, report);
      if (reachedFloor) return;
    }
  }

  /** The row as a missed event, when it is a webhook Panora sent to one of our endpoints. */
  private candidate(row: PanoraEventRow, endpoints: readonly ActiveEndpointScope[]): NewMissedEvent | null {
    const type = deliveredType(row);
    const endpoint = type === null ? undefined : subscribedEndpoint(type, endpoints);
    if (type === null || !endpoint) return null;
    return {
      idEvent: row.id_event,
      type: row.type,
      normalizedType: type,
      idConnection: row.id_connection,
      provider: row.provider,
      panoraTimestamp: row.timestamp,
      endpointId: endpoint.id,
      reason: missedReason(row, type, endpoint.id),
    };
  }

  /** Records the candidates the inbox does not hold. */
  private async record(candidates: NewMissedEvent[], report: DetectionReport): Promise<void> {
    if (candidates.length === 0) return;
    const held = await this.inbox.heldEventIds(candidates.map((c) => c.idEvent));
    report.received += held.size;
    const found = await this.repository.recordMissed(candidates.filter((c) => !held.has(c.idEvent)));
    if (found.length > 0) this.logger.warn({ missed: found.length }, 'Missed events found in Panora');
    report.found.push(...found);
  }

  /** A delivery that turned up after its event was found missed changes nothing but its status. */
  private async markLateArrivals(): Promise<number> {
    const held = await this.inbox.heldEventIds(await this.repository.notArrived(LATE_CHECK_LIMIT));
    return this.repository.markArrivedLate([...held]);
  }
}
