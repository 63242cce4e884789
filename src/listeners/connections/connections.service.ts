import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ConnectionEventData } from '../../contracts';
import { OutboxService } from '../../outbox';
import { SecretBox } from '../../platform/secrets';
import { PermanentEventError } from '../../dispatch';
import type { PanoraConnection } from '../../panora';
import { Connection } from './connection.entity';
import { ConnectionsErrorCode, ConnectionsException } from './connections.exception';
import { ConnectionsRepository, type ConnectionFacts as Facts, type ConnectionFilter } from './connections.repository';

export type { ConnectionFilter } from './connections.repository';

/**
 * `stale`: the write is older than what the row already reflects (see `WriteOrigin`), so it changed
 * nothing and emitted nothing.
 */
export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

/**
 * Where a write comes from, and so its place in the row's history. State never goes back in time:
 * a row remembers the position of the newest write applied to it (`last_event_id`), and an older
 * one changes nothing.
 * - `webhook`: a `connection.created` event; its position is its inbox id (`webhook_events.id`,
 *   assigned in order of receipt). It applies only when strictly newer than the row's position: an
 *   equal position is the same event again (a replay, the other listener), which has nothing new.
 * - `reconciliation`: Panora's own `GET /connections`, read after `asOf` (`inboxPosition()`, the
 *   newest inbox id at the moment the read began). That answer is at least as new as every event
 *   received before the read, so it applies at or after `asOf`, and takes `asOf` as the row's
 *   position: a replay or a late retry of an event received before the read cannot undo it. An
 *   event received after the read began outranks it (in doubt, the event wins; the next
 *   reconciliation, with a newer `asOf`, settles it).
 */
export type WriteOrigin = { source: 'webhook'; eventId: string } | { source: 'reconciliation'; asOf: string };

export const CONNECTION_CREATED = 'connections.connection.created';
export const CONNECTION_UPDATED = 'connections.connection.updated';

export interface ConnectionView {
  idConnection: string;
  providerSlug: string | null;
  vertical: string | null;
  status: string | null;
  accountUrl: string | null;
  idProject: string | null;
  idLinkedUser: string | null;
  linkedUserOriginId: string | null;
  hasToken: boolean;
  tokenHint: string | null;
  panoraCreatedAt: Date | null;
  source: 'webhook' | 'reconciliation';
  createdAt: Date;
  updatedAt: Date;
}

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const date = (value: unknown): Date | null => {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? null : parsed;
};

/**
 * Keeps the connections of the app's end-users: the connection token sealed at rest, Panora's
 * OAuth blobs never stored. Every change and its bus event commit together (outbox).
 */
@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly secretBox: SecretBox,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * Creates or updates a connection from Panora's Connection object. Panora sends
   * `connection.created` again when a user re-authorises (same id, maybe a new token), and
   * reconciliation brings in what was missed: a field missing from `connection` keeps its value.
   */
  async upsert(connection: PanoraConnection, origin: WriteOrigin): Promise<UpsertOutcome> {
    const { id, token, facts } = parse(connection);
    const at = position(origin);
    return this.connections.transaction(async (manager) => {
      if (await this.insert(manager, id, token, facts, origin)) return 'created';

      // Under the row lock, so two writes of one connection (e.g. two events of one dispatcher
      // round) are compared and applied one after the other, whichever reaches the row first.
      const current = await this.connections.lockForWrite(manager, id, at, origin.source === 'reconciliation');
      if (current.stale) {
        const context = { idConnection: id, source: origin.source, position: at, rowPosition: current.last_event_id };
        if (origin.source === 'reconciliation') {
          this.logger.log(
            context,
            'Connection changed by an event received since the read from Panora began: left as is',
          );
        } else if (current.last_event_id === at) {
          // The same event again (its other listener stored it, or a replay): nothing new in it.
          this.logger.debug(context, 'connection.created already applied');
        } else {
          this.logger.log(context, 'connection.created older than the stored connection: not applied');
        }
        return 'stale';
      }
      const merged: Facts = { ...current };
      const changed: string[] = [];
      for (const key of Object.keys(facts) as (keyof Facts)[]) {
        const next = facts[key];
        if (next === null) continue;
        const before = current[key];
        const same =
          next instanceof Date ? before instanceof Date && before.getTime() === next.getTime() : before === next;
        if (!same) {
          (merged as unknown as Record<string, unknown>)[key] = next;
          changed.push(key);
        }
      }
      const tokenChanged =
        token !== null &&
        (current.sealed_connection_token === null || this.secretBox.open(current.sealed_connection_token) !== token);
      if (tokenChanged) changed.push('connection_token');
      if (changed.length === 0) {
        // Nothing new, but the row now reflects this write too: an event received between the
        // stored one and this one must not win if it is applied later (a retry, a replay).
        await this.connections.advancePosition(manager, id, at);
        return 'unchanged';
      }

      await this.connections.update(
        manager,
        id,
        merged,
        tokenChanged ? this.secretBox.seal(token) : null,
        tokenChanged ? token.slice(-4) : null,
        at,
      );
      await this.publish(manager, id, CONNECTION_UPDATED, origin.source, changed);
      return 'updated';
    });
  }

  /**
   * Stores the connection when no row has it yet, and changes nothing otherwise (a later event may
   * have updated it: an older copy must not undo that). For listeners that need the row to exist
   * whichever listener of the event commits first. True when this call created it.
   */
  async storeIfMissing(connection: PanoraConnection, origin: WriteOrigin): Promise<boolean> {
    const { id, token, facts } = parse(connection);
    return this.connections.transaction((manager) => this.insert(manager, id, token, facts, origin));
  }

  /**
   * INSERT … ON CONFLICT DO NOTHING, with its `connections.connection.created` event when it
   * inserted. Safe against a concurrent insert of the same id: the second waits for the first to
   * commit, then does nothing.
   */
  private async insert(
    manager: EntityManager,
    id: string,
    token: string | null,
    facts: Facts,
    origin: WriteOrigin,
  ): Promise<boolean> {
    const inserted = await this.connections.insert(manager, {
      id,
      facts,
      sealedToken: token ? this.secretBox.seal(token) : null,
      tokenHint: token ? token.slice(-4) : null,
      source: origin.source,
      position: position(origin),
    });
    if (!inserted) return false;
    await this.publish(manager, id, CONNECTION_CREATED, origin.source);
    return true;
  }

  /**
   * Records the app's own user id for a connection. Answers false when the connection is not
   * stored yet (its `connection.created` listener has not committed), so the caller retries.
   */
  async setOriginId(idConnection: string, originId: string): Promise<boolean> {
    return this.connections.transaction(async (manager) => {
      if (await this.connections.setOriginId(manager, idConnection, originId)) {
        await this.publish(manager, idConnection, CONNECTION_UPDATED, 'webhook', ['linked_user_origin_id']);
        return true;
      }
      // Nothing updated: either the row already holds this origin id, or it is not visible yet. The
      // check must ask for the origin id too: the connection may commit between the UPDATE and this
      // SELECT, and answering "stored" then would leave the origin id unset for good.
      return this.connections.hasOriginId(manager, idConnection, originId);
    });
  }

  /**
   * The newest inbox id handed out so far (0 before the first delivery): taken just before reading
   * Panora's connections, it is the reconciliation's `asOf`. The sequence is read, not the table:
   * an id handed to a delivery still being stored counts, as that delivery reached us before the
   * read began.
   */
  async inboxPosition(): Promise<string> {
    return this.connections.inboxPosition();
  }

  async list(filter: ConnectionFilter): Promise<ConnectionView[]> {
    return (await this.connections.list(filter)).map(view);
  }

  async get(idConnection: string): Promise<ConnectionView> {
    return view(await this.find(idConnection));
  }

  /** The token itself, for a sibling service about to call Panora's unified API for this user. */
  async token(idConnection: string): Promise<{ idConnection: string; connectionToken: string }> {
    const connection = await this.find(idConnection, true);
    if (!connection.sealedConnectionToken) {
      throw new ConnectionsException(
        ConnectionsErrorCode.NoToken,
        `Connection ${idConnection} has no connection token`,
      );
    }
    return { idConnection, connectionToken: this.secretBox.open(connection.sealedConnectionToken) };
  }

  /** Connections whose app user id is not known yet (for reconciliation to resolve). */
  async unresolved(limit = 100): Promise<{ idConnection: string; idLinkedUser: string }[]> {
    return this.connections.unresolved(limit);
  }

  private async find(idConnection: string, withToken = false): Promise<Connection> {
    const connection = idConnection.length <= 255 ? await this.connections.find(idConnection, withToken) : null;
    if (!connection)
      throw new ConnectionsException(
        ConnectionsErrorCode.NotFound,
        `No connection with id ${idConnection.slice(0, 64)}`,
      );
    return connection;
  }

  private async publish(
    manager: EntityManager,
    id: string,
    type: string,
    source: string,
    changed?: string[],
  ): Promise<void> {
    const connection = await this.connections.load(manager, id);
    await this.outbox.enqueue(manager, {
      type,
      key: `connection:${id}`,
      // The contract's fields exactly (src/contracts); its Dates travel as ISO strings.
      data: {
        ...view(connection),
        reconciled: source === 'reconciliation',
        ...(changed ? { changed } : {}),
      } satisfies { [K in keyof ConnectionEventData]: unknown },
    });
    this.logger.log(
      { idConnection: id, event: type, source },
      `Connection ${type === CONNECTION_CREATED ? 'created' : 'updated'}`,
    );
  }
}

/** A write's place in a row's history (`last_event_id`). */
function position(origin: WriteOrigin): string {
  return origin.source === 'webhook' ? origin.eventId : origin.asOf;
}

/** The id, token and columns of a Panora Connection object. */
function parse(connection: PanoraConnection): { id: string; token: string | null; facts: Facts } {
  const id = connection.id_connection;
  if (typeof id !== 'string' || id === '') throw new PermanentEventError('connection.created without an id_connection');
  return {
    id,
    token: str(connection.connection_token),
    facts: {
      provider_slug: str(connection.provider_slug),
      vertical: str(connection.vertical),
      status: str(connection.status),
      account_url: str(connection.account_url),
      id_project: str(connection.id_project),
      id_linked_user: str(connection.id_linked_user),
      panora_created_at: date(connection.created_at),
    },
  };
}

function view(c: Connection): ConnectionView {
  return {
    idConnection: c.idConnection,
    providerSlug: c.providerSlug,
    vertical: c.vertical,
    status: c.status,
    accountUrl: c.accountUrl,
    idProject: c.idProject,
    idLinkedUser: c.idLinkedUser,
    linkedUserOriginId: c.linkedUserOriginId,
    hasToken: c.tokenHint !== null,
    tokenHint: c.tokenHint,
    panoraCreatedAt: c.panoraCreatedAt,
    source: c.source,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
