import { Injectable, Logger } from '@nestjs/common';
import { connectionsConfig, type ConnectionsConfig } from './connections.config';
import { PanoraApiError, PanoraClient, type PanoraConnection } from '../../panora';
import { OnPanoraEvent, PanoraWebhookEvent, PermanentEventError } from '../../dispatch';
import { ConnectionsService } from './connections.service';

/**
 * Catches `connection.created`: stores the connection (token sealed) and, as a separate listener
 * so that a Panora API hiccup never holds up the token, resolves the app's own user id. The two
 * run concurrently, in no fixed order: each one stores the connection itself.
 */
@Injectable()
export class ConnectionsListener {
  private readonly logger = new Logger(ConnectionsListener.name);
  private readonly canResolve: boolean;

  constructor(
    private readonly connections: ConnectionsService,
    private readonly panora: PanoraClient,
    @connectionsConfig.inject() config: ConnectionsConfig,
  ) {
    this.canResolve = config.panoraReachable;
  }

  @OnPanoraEvent('connection.created', 'connections.store')
  async store(event: PanoraWebhookEvent<PanoraConnection>): Promise<void> {
    await this.connections.upsert(event.data, { source: 'webhook', eventId: event.meta.inboxId });
  }

  /**
   * `id_linked_user` → `GET /linked_users/:id` → `linked_user_origin_id`. Retried on failure. The
   * Panora call happens before any database work, never inside a transaction.
   */
  @OnPanoraEvent('connection.created', 'connections.resolve-linked-user')
  async resolveLinkedUser(event: PanoraWebhookEvent<PanoraConnection>): Promise<void> {
    const { id_connection: idConnection, id_linked_user: idLinkedUser } = event.data;
    if (!idLinkedUser || !this.canResolve) return; // without PANORA_API_KEY there is no one to ask
    // Not a connection (e.g. a relabelled event): connections.store reports it; do not ask Panora.
    if (typeof idConnection !== 'string' || idConnection === '') {
      throw new PermanentEventError('connection.created without an id_connection');
    }
    let linkedUser;
    try {
      linkedUser = await this.panora.getLinkedUser(idLinkedUser);
    } catch (error) {
      // A linked user Panora does not know will not appear by retrying; anything else might.
      if (error instanceof PanoraApiError && error.status === 404) {
        this.logger.warn({ idConnection, idLinkedUser }, 'Panora has no such linked user: the origin id stays unknown');
        return;
      }
      throw error;
    }
    const originId = linkedUser.linked_user_origin_id;
    if (!originId) {
      this.logger.warn({ idConnection, idLinkedUser }, 'Panora knows no origin id for this linked user');
      return;
    }
    // `connections.store` runs beside this listener and may not have committed yet. Storing the
    // connection here too, when no row has it, makes the outcome independent of their order (a
    // concurrent insert meets store's in INSERT … ON CONFLICT; when store got there first this
    // changes and emits nothing), so the origin id is written on the first attempt either way.
    // Insert only: on a retry hours later, this event's copy must not undo a newer re-authorisation.
    await this.connections.storeIfMissing(event.data, { source: 'webhook', eventId: event.meta.inboxId });
    if (!(await this.connections.setOriginId(idConnection, originId))) {
      throw new Error('the connection could not be stored; retrying');
    }
  }
}
