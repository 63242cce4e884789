import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Connection } from './connection.entity';

export interface ConnectionFilter {
  linkedUserId?: string;
  originId?: string;
  provider?: string;
  vertical?: string;
  limit?: number;
}

/** The columns a Panora connection maps to (the token apart). */
export interface ConnectionFacts {
  provider_slug: string | null;
  vertical: string | null;
  status: string | null;
  account_url: string | null;
  id_project: string | null;
  id_linked_user: string | null;
  panora_created_at: Date | null;
}

/** A connection as a write finds it, under its row lock. */
export type LockedConnection = ConnectionFacts & {
  sealed_connection_token: string | null;
  last_event_id: string | null;
  /** The write is older than what the row already reflects (see `WriteOrigin`). */
  stale: boolean;
};

/** What a new row holds: the token sealed already. */
export interface NewConnection {
  id: string;
  facts: ConnectionFacts;
  sealedToken: string | null;
  tokenHint: string | null;
  source: 'webhook' | 'reconciliation';
  /** The write's place in the row's history (`last_event_id`). */
  position: string;
}

/**
 * The SQL on `connections` (and the inbox sequence that reconciliation reads as its `asOf`, and
 * the advisory lock that keeps it to one instance at a time).
 */
@Injectable()
export class ConnectionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Runs `work` holding the session-level advisory lock `key`, taken on one pooled connection for
   * the whole run and released with it. `{ locked: false }`, without running `work`, when another
   * session holds it.
   */
  async withSessionLock<T>(
    key: number,
    work: () => Promise<T>,
  ): Promise<{ locked: true; result: T } | { locked: false }> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key])) as {
        locked: boolean;
      }[];
      if (!locked) return { locked: false };
      try {
        return { locked: true, result: await work() };
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * INSERT … ON CONFLICT DO NOTHING. Safe against a concurrent insert of the same id: the second
   * waits for the first to commit, then does nothing. True when it inserted.
   */
  async insert(manager: EntityManager, row: NewConnection): Promise<boolean> {
    const { id, facts } = row;
    const inserted: unknown[] = await manager.query(
      `INSERT INTO connections (id_connection, provider_slug, vertical, status, account_url, id_project, id_linked_user,
                                panora_created_at, sealed_connection_token, token_hint, source, last_event_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (id_connection) DO NOTHING RETURNING id_connection`,
      [
        id,
        facts.provider_slug,
        facts.vertical,
        facts.status,
        facts.account_url,
        facts.id_project,
        facts.id_linked_user,
        facts.panora_created_at,
        row.sealedToken,
        row.tokenHint,
        row.source,
        row.position,
      ],
    );
    return inserted.length > 0;
  }

  /**
   * The row under its lock (FOR UPDATE), with whether a write at `position` is stale: a webhook
   * write must be strictly newer than `last_event_id`, a reconciliation at least as new.
   */
  async lockForWrite(
    manager: EntityManager,
    id: string,
    position: string,
    reconciliation: boolean,
  ): Promise<LockedConnection> {
    const [current] = await manager.query<LockedConnection[]>(
      `SELECT provider_slug, vertical, status, account_url, id_project, id_linked_user, panora_created_at,
                sealed_connection_token, last_event_id::text AS last_event_id,
                COALESCE(CASE WHEN $3::boolean THEN $2::bigint < last_event_id ELSE $2::bigint <= last_event_id END, false) AS stale
           FROM connections WHERE id_connection = $1 FOR UPDATE`,
      [id, position, reconciliation],
    );
    return current;
  }

  /** Moves the row's position forward to `position` (never back), changing nothing else. */
  async advancePosition(manager: EntityManager, id: string, position: string): Promise<void> {
    await manager.query(
      `UPDATE connections SET last_event_id = $2
            WHERE id_connection = $1 AND (last_event_id IS NULL OR last_event_id < $2::bigint)`,
      [id, position],
    );
  }

  /** Writes the merged columns; a null sealed token or hint keeps the stored one. */
  async update(
    manager: EntityManager,
    id: string,
    merged: ConnectionFacts,
    sealedToken: string | null,
    tokenHint: string | null,
    position: string,
  ): Promise<void> {
    await manager.query(
      `UPDATE connections SET provider_slug = $2, vertical = $3, status = $4, account_url = $5, id_project = $6,
                id_linked_user = $7, panora_created_at = $8,
                sealed_connection_token = COALESCE($9, sealed_connection_token), token_hint = COALESCE($10, token_hint),
                last_event_id = GREATEST($11::bigint, last_event_id), updated_at = now()
          WHERE id_connection = $1`,
      [
        id,
        merged.provider_slug,
        merged.vertical,
        merged.status,
        merged.account_url,
        merged.id_project,
        merged.id_linked_user,
        merged.panora_created_at,
        sealedToken,
        tokenHint,
        position,
      ],
    );
  }

  /** Sets the app's user id when it differs; true when a row changed. */
  async setOriginId(manager: EntityManager, idConnection: string, originId: string): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE connections SET linked_user_origin_id = $2, updated_at = now()
          WHERE id_connection = $1 AND linked_user_origin_id IS DISTINCT FROM $2 RETURNING id_connection`,
      [idConnection, originId],
    );
    return rows.length === 1;
  }

  /** Whether the row exists with this origin id already. */
  async hasOriginId(manager: EntityManager, idConnection: string, originId: string): Promise<boolean> {
    const done: unknown[] = await manager.query(
      'SELECT 1 FROM connections WHERE id_connection = $1 AND linked_user_origin_id = $2',
      [idConnection, originId],
    );
    return done.length === 1;
  }

  /** The newest inbox id handed out so far (0 before the first delivery). */
  async inboxPosition(): Promise<string> {
    const [{ position }] = await this.dataSource.query<{ position: string }[]>(
      `SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('webhook_events', 'id')), 0)::text AS position`,
    );
    return position;
  }

  async list(filter: ConnectionFilter): Promise<Connection[]> {
    const qb = this.dataSource
      .getRepository(Connection)
      .createQueryBuilder('c')
      .orderBy('c.created_at', 'DESC')
      .take(filter.limit ?? 100);
    if (filter.linkedUserId) qb.andWhere('c.id_linked_user = :linkedUserId', { linkedUserId: filter.linkedUserId });
    if (filter.originId) qb.andWhere('c.linked_user_origin_id = :originId', { originId: filter.originId });
    if (filter.provider) qb.andWhere('c.provider_slug = :provider', { provider: filter.provider });
    if (filter.vertical) qb.andWhere('c.vertical = :vertical', { vertical: filter.vertical });
    return qb.getMany();
  }

  async find(idConnection: string, withToken = false): Promise<Connection | null> {
    const qb = this.dataSource
      .getRepository(Connection)
      .createQueryBuilder('c')
      .where('c.id_connection = :id', { id: idConnection });
    if (withToken) qb.addSelect('c.sealedConnectionToken');
    return qb.getOne();
  }

  /** The row as committed in this transaction so far (for its bus event). */
  load(manager: EntityManager, idConnection: string): Promise<Connection> {
    return manager.getRepository(Connection).findOneByOrFail({ idConnection });
  }

  /** Connections whose app user id is not known yet (for reconciliation to resolve). */
  async unresolved(limit: number): Promise<{ idConnection: string; idLinkedUser: string }[]> {
    const rows = await this.dataSource.query<{ id_connection: string; id_linked_user: string }[]>(
      `SELECT id_connection, id_linked_user FROM connections
        WHERE linked_user_origin_id IS NULL AND id_linked_user IS NOT NULL ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ idConnection: r.id_connection, idLinkedUser: r.id_linked_user }));
  }
}
