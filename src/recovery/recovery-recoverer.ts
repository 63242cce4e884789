import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  ConnectionsErrorCode,
  ConnectionsException,
  ConnectionsReconciler,
  ConnectionsService,
} from '../listeners/connections';
import { OutboxService, type OutboxMessageInput } from '../outbox';
import type { MissedEventData } from '../contracts';
import { CrmRereader, type CrmGroup } from './crm-reread';
import { planFor } from './missed-events';
import { RecoveryRepository, type MissedEventRow } from './recovery.repository';
import type { RecoveryRun } from './recovery-run';

/** The bus message for a missed event no module here can recover. */
export const MISSED_EVENT_TYPE = 'recovery.event.missed';

/** Pending events, at most, one run works through (the rest wait for the next). */
const PENDING_LIMIT = 1000;
/** Messages per transaction when publishing. */
const PUBLISH_BATCH = 100;

/**
 * The recovering half of a run, over every pending missed event: `connection.*` by one
 * reconciliation with Panora's GET /connections; a CRM kind the projections keep by re-reading the
 * connection's objects of that kind (CrmRereader); anything else by a `recovery.event.missed`
 * message on the bus with Panora's metadata of the event, for the sibling that owns that data.
 */
@Injectable()
export class RecoveryRecoverer {
  constructor(
    private readonly repository: RecoveryRepository,
    private readonly connections: ConnectionsService,
    private readonly reconciler: ConnectionsReconciler,
    private readonly rereader: CrmRereader,
    private readonly outbox: OutboxService,
  ) {}

  async recover(run: RecoveryRun): Promise<void> {
    const connectionEvents: MissedEventRow[] = [];
    const others: MissedEventRow[] = [];
    const groups = new Map<string, CrmGroup>();
    const noConnection: MissedEventRow[] = [];
    for (const event of await this.repository.pending(PENDING_LIMIT)) {
      const plan = planFor(event.normalized_type);
      if (plan.action === 'publish') others.push(event);
      else if (!event.id_connection) noConnection.push(event);
      else if (plan.action === 'reconcile') connectionEvents.push(event);
      else {
        const key = `${event.id_connection}\u0000${plan.crm.kind}`;
        const group = groups.get(key) ?? { idConnection: event.id_connection, crm: plan.crm, events: [] };
        group.events.push(event);
        groups.set(key, group);
      }
    }
    run.counts.givenUp += await this.repository.settle(
      noConnection.map((event) => event.id_event),
      'given_up',
      'Panora lists the event without a connection: there is nothing to re-read',
    );
    // The bus first: it needs no call to Panora.
    await this.publish(others, run);
    if (connectionEvents.length > 0) await this.recoverConnections(connectionEvents, run);
    for (const group of groups.values()) {
      if (run.rateLimited) {
        const ids = group.events.map((event) => event.id_event);
        const message = run.failed(new Error('Panora rate-limited this run: left to the next run'), ids.length);
        await this.repository.attemptFailed(ids, message);
        continue;
      }
      await this.rereader.reread(group, run);
    }
  }

  private async publish(events: MissedEventRow[], run: RecoveryRun): Promise<void> {
    for (let i = 0; i < events.length; i += PUBLISH_BATCH) {
      const batch = events.slice(i, i + PUBLISH_BATCH);
      run.counts.published += await this.repository.transaction(async (manager) => {
        const settled = await this.repository.settle(
          batch.map((event) => event.id_event),
          'published',
          null,
          manager,
        );
        await this.outbox.enqueue(manager, batch.map(missedEventMessage));
        return settled;
      });
    }
  }

  /** One reconciliation per run; then each event is recovered when its connection is stored. */
  private async recoverConnections(events: MissedEventRow[], run: RecoveryRun): Promise<void> {
    const ids = events.map((event) => event.id_event);
    const failure = run.rateLimited
      ? 'Panora rate-limited this run: left to the next run'
      : await run.reconcileOnce(this.reconciler);
    if (failure) {
      await this.repository.attemptFailed(ids, run.failed(new Error(failure), ids.length));
      return;
    }
    const stored: string[] = [];
    const gone: string[] = [];
    for (const event of events) ((await this.isStored(event.id_connection!)) ? stored : gone).push(event.id_event);
    run.counts.recovered += await this.repository.settle(stored, 'recovered');
    run.counts.givenUp += await this.repository.settle(gone, 'given_up', 'Panora no longer lists the connection');
  }

  private async isStored(idConnection: string): Promise<boolean> {
    try {
      await this.connections.get(idConnection);
      return true;
    } catch (error) {
      if (error instanceof ConnectionsException && error.code === ConnectionsErrorCode.NotFound) return false;
      throw error;
    }
  }
}

/**
 * `recovery.event.missed`: Panora's metadata of the event (it lists no payload), keyed by the
 * connection, with a message id derived from `id_event` so a repeat is a no-op.
 */
export function missedEventMessage(event: MissedEventRow): OutboxMessageInput {
  return {
    type: MISSED_EVENT_TYPE,
    key: event.id_connection ? `connection:${event.id_connection}` : `panora-event:${event.id_event}`,
    id: stableId(`${MISSED_EVENT_TYPE}:${event.id_event}`),
    occurredAt: new Date(event.panora_timestamp),
    recovered: true,
    data: {
      id_event: event.id_event,
      type: event.type,
      id_connection: event.id_connection,
      timestamp: new Date(event.panora_timestamp).toISOString(),
      provider: event.provider,
    } satisfies MissedEventData,
  };
}

/** A UUID (version 5 layout) from a SHA-256 of `name`. */
export function stableId(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
