import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { endpointsConfig, type EndpointsConfig } from './endpoints.config';
import { EndpointErrorCode, EndpointException } from './endpoints.exception';

/** Whether a change holds a live mark (one not past the lease); the SQL reads `leaseMs` as $2. */
const LIVE = `COALESCE(change_token IS NOT NULL AND change_started_at > now() - $2 * interval '1 millisecond', false)`;

/**
 * Serialises registration changes per endpoint without holding a transaction across a call to
 * Panora. A change marks the endpoint (`change_token`, a one-statement update under the row lock)
 * before it calls Panora, writes its result in a transaction that locks the row and checks the mark
 * is still its own, and clears the mark at its end. Meanwhile every other change of that endpoint
 * (another rotation, enable/disable, delete, an import of the same Panora endpoint, sync's
 * updates) is refused with 409 or skipped, on every instance. Without this, two rotations at once,
 * one failing ambiguously at Panora, settled through `GET /webhooks` and took, or deleted, the
 * other's new endpoint.
 *
 * A mark older than the lease was left by an instance that died mid-change: the next change takes
 * it over, and the old holder, should it still be running, finds the mark gone when it writes and
 * undoes its work. The lease outlasts any change: each Panora call is bounded by
 * PANORA_TIMEOUT_MS and a change makes a handful of them.
 */
@Injectable()
export class EndpointChangeLock {
  private readonly logger = new Logger(EndpointChangeLock.name);
  readonly leaseMs: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @endpointsConfig.inject() config: EndpointsConfig,
  ) {
    this.leaseMs = config.changeLeaseMs;
  }

  /** A token for a change that creates the endpoint: the new row is inserted already marked with it. */
  newToken(): string {
    return randomUUID();
  }

  /**
   * Marks the endpoint as being changed by the caller and returns the mark's token. Null when no
   * live endpoint has this id; throws 409 while another change holds a live mark.
   */
  async acquire(id: string): Promise<string | null> {
    const token = randomUUID();
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE webhook_endpoints SET change_token = $3, change_started_at = now()
        WHERE id = $1 AND deleted_at IS NULL AND NOT (${LIVE})
        RETURNING id`,
      [id, this.leaseMs, token],
    );
    if (rows.length > 0) return token;
    const held: { started: Date }[] = await this.dataSource.query(
      `SELECT change_started_at AS started FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL AND ${LIVE}`,
      [id, this.leaseMs],
    );
    if (held.length === 0) return null;
    throw this.busy(id, held[0].started);
  }

  /**
   * In the transaction that writes a change: locks the endpoint's row until the commit and checks
   * the caller still holds the mark (a crashed holder's lease can be taken over). Throws 409 when not.
   */
  async assertHeld(manager: EntityManager, id: string, token: string): Promise<void> {
    const rows: { token: string | null; started: Date | null }[] = await manager.query(
      `SELECT change_token AS token, change_started_at AS started FROM webhook_endpoints WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (rows.length > 0 && rows[0].token === token) return;
    throw new EndpointException(
      EndpointErrorCode.ChangeInProgress,
      `This change of endpoint ${id} ran past ${this.leaseMs / 1000} s and another change took it over: ` +
        'nothing was changed, retry',
    );
  }

  /**
   * In a transaction: locks the rows and returns, per endpoint id, whether a change holds it now
   * and which Panora endpoint is current (sync skips the busy ones and those that changed).
   */
  async lockState(
    manager: EntityManager,
    ids: string[],
  ): Promise<Map<string, { busy: boolean; panoraEndpointId: string | null }>> {
    const rows: { id: string; busy: boolean; panora_endpoint_id: string | null }[] = await manager.query(
      `SELECT id, (${LIVE}) AS busy, panora_endpoint_id FROM webhook_endpoints
        WHERE id = ANY($1) AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
      [ids, this.leaseMs],
    );
    return new Map(rows.map((row) => [row.id, { busy: row.busy, panoraEndpointId: row.panora_endpoint_id }]));
  }

  /**
   * For a change made in one transaction, without calling Panora (an import of the same Panora
   * endpoint): locks the row until the commit, so no change can start meanwhile; throws 409 while
   * another change holds a live mark.
   */
  async assertFree(manager: EntityManager, id: string): Promise<void> {
    const [row]: { busy: boolean; started: Date | null }[] = await manager.query(
      `SELECT (${LIVE}) AS busy, change_started_at AS started FROM webhook_endpoints WHERE id = $1 FOR UPDATE`,
      [id, this.leaseMs],
    );
    if (row?.busy && row.started) throw this.busy(id, row.started);
  }

  /** Clears the caller's mark; a failure is logged (the lease frees the endpoint later), never thrown. */
  async release(id: string, token: string): Promise<void> {
    try {
      await this.dataSource.query(
        `UPDATE webhook_endpoints SET change_token = NULL, change_started_at = NULL WHERE id = $1 AND change_token = $2`,
        [id, token],
      );
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        `Could not clear the change mark of endpoint ${id} (${why}): further changes of it are refused ` +
          `for up to ${this.leaseMs / 1000} s`,
      );
    }
  }

  private busy(id: string, started: Date): EndpointException {
    return new EndpointException(
      EndpointErrorCode.ChangeInProgress,
      `Another change to endpoint ${id} is in progress (started ${started.toISOString()}): retry when it has finished`,
    );
  }
}
