import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsOrder, IsNull } from 'typeorm';
import { WebhookEndpointSecret } from './webhook-endpoint-secret.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether an id can name an endpoint at all (ids are UUIDs; anything else names none). */
export function isEndpointId(id: string): boolean {
  return UUID.test(id);
}

/** A write refused by a unique index (e.g. the same Panora endpoint imported twice at once). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string } })?.driverError?.code === '23505';
}

/** A registration just made: the row exists, inactive and marked as being changed, before Panora is asked. */
export interface PendingEndpoint {
  id: string;
  url: string;
  description: string | null;
  scope: string[];
  changeToken: string;
}

/**
 * The queries of the registration module's tables, `webhook_endpoints` and
 * `webhook_endpoint_secrets` (the change mark's statements live in EndpointChangeLock, the secret
 * lookup's in EndpointSecretsService). Methods taking an EntityManager run inside the caller's
 * transaction; the services decide what happens, never call Panora inside one.
 */
@Injectable()
export class EndpointsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The endpoint with its secrets; null for an unknown, deleted or malformed id. */
  async findWithSecrets(id: string, manager = this.dataSource.manager): Promise<WebhookEndpoint | null> {
    if (!isEndpointId(id)) return null;
    return manager.findOne(WebhookEndpoint, { where: { id }, relations: { secrets: true } });
  }

  /** An endpoint, deleted or not (without its secrets). */
  findIncludingDeleted(id: string): Promise<WebhookEndpoint> {
    return this.dataSource.getRepository(WebhookEndpoint).findOneOrFail({ where: { id }, withDeleted: true });
  }

  /** Every endpoint not deleted, with its secrets. */
  listWithSecrets(order: FindOptionsOrder<WebhookEndpoint>): Promise<WebhookEndpoint[]> {
    return this.dataSource.getRepository(WebhookEndpoint).find({ relations: { secrets: true }, order });
  }

  listActive(): Promise<WebhookEndpoint[]> {
    return this.dataSource.getRepository(WebhookEndpoint).findBy({ active: true });
  }

  /** The endpoint (not deleted) holding a Panora id, or null. */
  async findIdByPanoraId(manager: EntityManager, panoraEndpointId: string): Promise<string | null> {
    const [row] = await manager.query<{ id: string }[]>(
      'SELECT id FROM webhook_endpoints WHERE panora_endpoint_id = $1 AND deleted_at IS NULL',
      [panoraEndpointId],
    );
    return row?.id ?? null;
  }

  /** Every Panora endpoint id this service holds, current or replaced by a rotation. */
  async knownPanoraIds(): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT panora_endpoint_id AS id FROM webhook_endpoints WHERE panora_endpoint_id IS NOT NULL
       UNION SELECT panora_endpoint_id FROM webhook_endpoint_secrets WHERE panora_endpoint_id IS NOT NULL`,
    );
    return rows.map((row) => row.id);
  }

  /** Locks the endpoint's row for the rest of the transaction. */
  lockRow(manager: EntityManager, id: string): Promise<WebhookEndpoint | null> {
    return manager
      .createQueryBuilder(WebhookEndpoint, 'e')
      .setLock('pessimistic_write')
      .where('e.id = :id', { id })
      .getOne();
  }

  async insertPending(endpoint: PendingEndpoint): Promise<void> {
    const { changeToken, ...values } = endpoint;
    await this.dataSource.getRepository(WebhookEndpoint).insert({
      ...values,
      active: false,
      changeToken,
      changeStartedAt: () => 'now()',
    });
  }

  async insert(manager: EntityManager, endpoint: Partial<WebhookEndpoint>): Promise<void> {
    await manager.insert(WebhookEndpoint, endpoint);
  }

  async update(manager: EntityManager, id: string, values: Partial<WebhookEndpoint>): Promise<void> {
    await manager.update(WebhookEndpoint, id, values);
  }

  /** Sets `active` of an endpoint that is not deleted. */
  async setActive(manager: EntityManager, id: string, active: boolean): Promise<void> {
    await manager.update(WebhookEndpoint, { id, deletedAt: IsNull() }, { active });
  }

  /** Erases the row of a registration that did not happen. */
  async erase(id: string): Promise<void> {
    await this.dataSource.getRepository(WebhookEndpoint).delete(id);
  }

  /** Keeps the row with `deleted_at` (its events point at it), erases its secrets. */
  async markDeleted(manager: EntityManager, id: string): Promise<void> {
    await manager.update(WebhookEndpoint, id, { active: false, deletedAt: new Date() });
    await manager.delete(WebhookEndpointSecret, { endpointId: id });
  }

  /** A deleted endpoint keeps its Panora id; this frees it for a new endpoint. */
  async releasePanoraIdOfDeleted(manager: EntityManager, panoraEndpointId: string): Promise<void> {
    await manager.query(
      'UPDATE webhook_endpoints SET panora_endpoint_id = NULL WHERE panora_endpoint_id = $1 AND deleted_at IS NOT NULL',
      [panoraEndpointId],
    );
  }

  async insertSecret(manager: EntityManager, secret: Partial<WebhookEndpointSecret>): Promise<void> {
    await manager.insert(WebhookEndpointSecret, secret);
  }

  /** Erases the endpoint's expired secrets and lets its current one verify until `expiresAt`. */
  async expireCurrentSecret(manager: EntityManager, endpointId: string, expiresAt: Date): Promise<void> {
    await manager
      .createQueryBuilder()
      .delete()
      .from(WebhookEndpointSecret)
      .where('endpoint_id = :id AND expires_at <= now()', { id: endpointId })
      .execute();
    await manager.update(WebhookEndpointSecret, { endpointId, expiresAt: IsNull() }, { expiresAt });
  }

  /** A secret still in its grace period becomes current again. */
  async makeSecretCurrent(manager: EntityManager, secretId: string): Promise<void> {
    await manager.update(WebhookEndpointSecret, secretId, { expiresAt: null });
  }
}
