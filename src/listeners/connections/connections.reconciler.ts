import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { connectionsConfig, type ConnectionsConfig } from './connections.config';
import { PanoraClient } from '../../panora';
import { ConnectionsErrorCode, ConnectionsException } from './connections.exception';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService, UpsertOutcome } from './connections.service';

export interface ReconcileReport {
  seen: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Connections an event received after the read began had changed already: left to that event. */
  stale: number;
  failed: number;
  originIdsResolved: number;
}

/** Only one instance reconciles at a time. */
const RECONCILE_LOCK = 0x70776331;

/**
 * Panora never retries a failed delivery, so a missed `connection.created` would be lost for
 * good: this pulls `GET /connections` on a schedule (and on demand) and upserts what we lack,
 * emitting the same domain events, marked as reconciled. Off without PANORA_API_KEY.
 */
@Injectable()
export class ConnectionsReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ConnectionsReconciler.name);
  private readonly enabled: boolean;
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReconcileReport>;

  constructor(
    private readonly repository: ConnectionsRepository,
    private readonly connections: ConnectionsService,
    private readonly panora: PanoraClient,
    @connectionsConfig.inject() config: ConnectionsConfig,
  ) {
    this.enabled = config.panoraReachable;
    this.intervalMs = config.reconcileIntervalMs;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) {
      this.logger.log('PANORA_API_KEY is unset: connection reconciliation is off');
      return;
    }
    this.timer = setInterval(() => {
      this.reconcile().catch((error: unknown) =>
        this.logger.warn(`Scheduled reconciliation failed: ${(error as Error).message}`),
      );
    }, this.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  reconcile(): Promise<ReconcileReport> {
    if (!this.enabled) {
      return Promise.reject(
        new ConnectionsException(ConnectionsErrorCode.PanoraNotConfigured, 'Reconciliation needs PANORA_API_KEY'),
      );
    }
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<ReconcileReport> {
    const run = await this.repository.withSessionLock(RECONCILE_LOCK, () => this.pull());
    if (!run.locked)
      throw new ConnectionsException(ConnectionsErrorCode.ReconcileBusy, 'Another instance is reconciling right now');
    return run.result;
  }

  private async pull(): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      seen: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      stale: 0,
      failed: 0,
      originIdsResolved: 0,
    };
    // Taken before the read: Panora's answer is at least as new as every event received until now.
    const asOf = await this.connections.inboxPosition();
    const remote = await this.panora.listConnections();
    for (const connection of remote) {
      report.seen++;
      try {
        const outcome: UpsertOutcome = await this.connections.upsert(connection, { source: 'reconciliation', asOf });
        report[outcome]++;
      } catch (error) {
        report.failed++;
        this.logger.warn(
          { idConnection: connection.id_connection },
          `Could not reconcile connection: ${(error as Error).message}`,
        );
      }
    }
    for (const { idConnection, idLinkedUser } of await this.connections.unresolved()) {
      try {
        const originId = (await this.panora.getLinkedUser(idLinkedUser)).linked_user_origin_id;
        if (originId && (await this.connections.setOriginId(idConnection, originId))) report.originIdsResolved++;
      } catch (error) {
        this.logger.warn({ idConnection }, `Could not resolve the linked user: ${(error as Error).message}`);
      }
    }
    this.logger.log({ report }, 'Connections reconciled with Panora');
    return report;
  }
}
