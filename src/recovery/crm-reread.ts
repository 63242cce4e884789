import { Injectable, Logger } from '@nestjs/common';
import { PermanentEventError } from '../dispatch';
import {
  ConnectionsErrorCode,
  ConnectionsException,
  ConnectionsReconciler,
  ConnectionsService,
} from '../listeners/connections';
import { CrmProjectionService, type CrmRecoveryKind, type UpsertResult } from '../listeners/crm';
import { PanoraApiError, PanoraClient } from '../panora';
import { recoveryConfig, type RecoveryConfig } from './recovery.config';
import { RecoveryRepository, type MissedEventRow } from './recovery.repository';
import type { RecoveryRun } from './recovery-run';

/** The missed CRM events of one connection and kind: one re-read makes them all good. */
export interface CrmGroup {
  idConnection: string;
  crm: CrmRecoveryKind;
  events: MissedEventRow[];
}

type Token = { token: string } | { giveUp: string } | { retry: string };

/**
 * Re-reads one connection's objects of one kind from Panora's unified list, page by page, and
 * applies each page through the CRM projection's own path and stale guard (`upsertRecovered`).
 * The next page's cursor is stored once a page is applied, so a crash resumes there; applying a
 * page twice changes nothing. No transaction is open while Panora is called.
 */
@Injectable()
export class CrmRereader {
  private readonly logger = new Logger(CrmRereader.name);

  constructor(
    private readonly repository: RecoveryRepository,
    private readonly panora: PanoraClient,
    private readonly connections: ConnectionsService,
    private readonly reconciler: ConnectionsReconciler,
    private readonly projections: CrmProjectionService,
    @recoveryConfig.inject() private readonly config: RecoveryConfig,
  ) {}

  async reread({ idConnection, crm, events }: CrmGroup, run: RecoveryRun): Promise<void> {
    const ids = events.map((event) => event.id_event);
    const token = await this.tokenFor(idConnection, run);
    if ('giveUp' in token) {
      run.counts.givenUp += await this.repository.settle(ids, 'given_up', token.giveUp);
      return;
    }
    if ('retry' in token) {
      run.failed(new Error(token.retry), ids.length);
      await this.repository.attemptFailed(ids, token.retry);
      return;
    }
    const read = await this.repository.beginRead(idConnection, crm.kind);
    let cursor = read.cursor;
    try {
      for (;;) {
        await run.pacer.turn(run.signal);
        // Read before Panora is asked: a delivery received after it wins over what the list says.
        const asOf = await this.connections.inboxPosition();
        let page: Awaited<ReturnType<PanoraClient['listUnified']>>;
        try {
          page = await this.panora.listUnified(crm.path, token.token, { cursor, limit: this.config.unifiedPageSize });
        } catch (error) {
          if (!(error instanceof PanoraApiError && error.cursorRefused && cursor)) throw error;
          // The stored cursor's object is gone at Panora: read the kind again from its first page.
          cursor = null;
          await this.repository.saveCursor(idConnection, crm.kind, null);
          continue;
        }
        await this.apply(crm, page.data, { connectionId: idConnection, asOf }, run);
        cursor = page.nextCursor;
        if (!cursor) break;
        await this.repository.saveCursor(idConnection, crm.kind, cursor);
      }
    } catch (error) {
      if (run.signal.aborted) throw error;
      await this.failed(idConnection, crm, ids, cursor, error, run);
      return;
    }
    // Events found after this read began may concern objects it had passed already: next run.
    const covered = events.filter((event) => event.detected_at <= read.started_at).map((event) => event.id_event);
    run.counts.recovered += await this.repository.transaction(async (manager) => {
      await this.repository.finishRead(manager, idConnection, crm.kind);
      return this.repository.settle(covered, 'recovered', null, manager);
    });
  }

  private async failed(
    idConnection: string,
    crm: CrmRecoveryKind,
    ids: string[],
    cursor: string | null,
    error: unknown,
    run: RecoveryRun,
  ): Promise<void> {
    if (error instanceof PanoraApiError && error.connectionRefused) {
      const reason = `Panora refuses this connection's token: ${error.answer}`;
      run.refused.set(idConnection, reason);
      await this.repository.giveUpReads(idConnection, reason);
      run.counts.givenUp += await this.repository.settle(ids, 'given_up', reason);
      this.logger.warn({ idConnection }, 'Recovery gave up on a connection: Panora refuses its token');
      return;
    }
    const message = run.failed(error, ids.length);
    await this.repository.saveCursor(idConnection, crm.kind, cursor, message);
    await this.repository.attemptFailed(ids, message);
    this.logger.warn({ idConnection, kind: crm.kind }, `Re-reading ${crm.path} failed: ${message}`);
  }

  /** Applies a page; an object the projection cannot read is left out (the rest of the page applies). */
  private async apply(
    crm: CrmRecoveryKind,
    objects: readonly unknown[],
    options: { connectionId: string; asOf: string },
    run: RecoveryRun,
  ): Promise<void> {
    const add = (result: UpsertResult) => {
      run.counts.objectsRead += result.received;
      run.counts.objectsChanged += result.changed;
    };
    try {
      add(await this.projections.upsertRecovered(crm.kind, objects, options));
      return;
    } catch (error) {
      if (!(error instanceof PermanentEventError)) throw error;
    }
    for (const object of objects) {
      try {
        add(await this.projections.upsertRecovered(crm.kind, [object], options));
      } catch (error) {
        if (!(error instanceof PermanentEventError)) throw error;
        run.counts.objectsSkipped++;
        this.logger.warn(
          { idConnection: options.connectionId, kind: crm.kind },
          `An object of ${crm.path} cannot be projected, left out: ${error.message}`,
        );
      }
    }
  }

  /** The connection's token; not stored: reconcile with Panora first (once per run), then ask again. */
  private async tokenFor(idConnection: string, run: RecoveryRun): Promise<Token> {
    const refused = run.refused.get(idConnection);
    if (refused) return { giveUp: refused };
    const stored = await this.storedToken(idConnection);
    if (stored) return { token: stored };
    const failure = await run.reconcileOnce(this.reconciler);
    if (failure) return { retry: failure };
    const reconciled = await this.storedToken(idConnection);
    if (reconciled) return { token: reconciled };
    return {
      giveUp: `No connection token for connection ${idConnection}: none stored here, and Panora's GET /connections gives none`,
    };
  }

  private async storedToken(idConnection: string): Promise<string | null> {
    try {
      return (await this.connections.token(idConnection)).connectionToken;
    } catch (error) {
      const missing = [ConnectionsErrorCode.NotFound, ConnectionsErrorCode.NoToken];
      if (error instanceof ConnectionsException && missing.includes(error.code)) return null;
      throw error;
    }
  }
}
