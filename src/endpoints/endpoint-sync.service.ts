import { Injectable, Logger } from '@nestjs/common';
import { EndpointChangeLock } from './endpoint-change-lock';
import { EndpointOverlaps, sameSet, unique } from './endpoint-scopes';
import { EndpointSecretsService } from './endpoint-secrets.service';
import { SyncResult } from './endpoint-sync.dto';
import { EndpointsRepository } from './endpoints.repository';
import { ENDPOINTS_LOG_CONTEXT } from './endpoints.service';
import { PanoraClient } from '../panora';
import { WebhookEndpoint } from './webhook-endpoint.entity';

/**
 * Compares the endpoints here with Panora's: reports the one-sided ones and takes `active` and
 * scope from Panora. Panora is asked before the transaction that applies its answer opens.
 */
@Injectable()
export class EndpointSyncService {
  private readonly logger = new Logger(ENDPOINTS_LOG_CONTEXT);

  constructor(
    private readonly repository: EndpointsRepository,
    private readonly panora: PanoraClient,
    private readonly overlaps: EndpointOverlaps,
    private readonly endpointSecrets: EndpointSecretsService,
    private readonly changes: EndpointChangeLock,
  ) {}

  /** Compares with Panora's `GET /webhooks`: reports one-sided endpoints, takes `active` and scope from Panora. */
  async sync(): Promise<SyncResult> {
    const remote = await this.panora.listWebhooks();
    const local = await this.repository.listWithSecrets({ createdAt: 'ASC' });
    const remoteById = new Map(remote.map((row) => [row.id_webhook_endpoint, row]));
    const current = new Map<string, WebhookEndpoint>();
    const replaced = new Map<string, WebhookEndpoint>();
    for (const endpoint of local) {
      if (endpoint.panoraEndpointId) current.set(endpoint.panoraEndpointId, endpoint);
      for (const secret of endpoint.secrets ?? []) {
        if (secret.panoraEndpointId && secret.panoraEndpointId !== endpoint.panoraEndpointId) {
          replaced.set(secret.panoraEndpointId, endpoint);
        }
      }
    }

    const result: SyncResult = { updated: [], onlyLocal: [], notRegistered: [], onlyAtPanora: [], warnings: [] };
    for (const endpoint of local) {
      if (!endpoint.panoraEndpointId) {
        result.notRegistered.push({ id: endpoint.id, url: endpoint.url });
        continue;
      }
      const row = remoteById.get(endpoint.panoraEndpointId);
      if (!row) {
        result.onlyLocal.push({ id: endpoint.id, panoraEndpointId: endpoint.panoraEndpointId, url: endpoint.url });
        continue;
      }
      const change: SyncResult['updated'][number] = { id: endpoint.id, panoraEndpointId: endpoint.panoraEndpointId };
      if (typeof row.active === 'boolean' && row.active !== endpoint.active) change.active = row.active;
      if (row.scope && !sameSet(row.scope, endpoint.scope)) change.scope = unique(row.scope);
      if (change.active !== undefined || change.scope) result.updated.push(change);
    }
    for (const row of remote) {
      const id = row.id_webhook_endpoint;
      if (current.has(id)) continue;
      if (replaced.has(id)) {
        if (row.active !== false) {
          result.warnings.push(
            `Panora endpoint ${id}, replaced by a rotation of endpoint ${replaced.get(id)!.id}, is still active at Panora: disable it`,
          );
        }
        continue;
      }
      result.onlyAtPanora.push({
        panoraEndpointId: id,
        url: row.url ?? null,
        scope: row.scope ?? [],
        active: row.active ?? null,
        description: row.endpoint_description ?? null,
      });
    }

    if (result.updated.length > 0) {
      const skipped = await this.repository.transaction(async (manager) => {
        // An endpoint being changed (a rotation at Panora…), or changed since it was read, is left alone.
        const state = await this.changes.lockState(
          manager,
          result.updated.map((change) => change.id),
        );
        const left: SyncResult['updated'] = [];
        for (const change of result.updated) {
          const now = state.get(change.id);
          if (!now || now.busy || now.panoraEndpointId !== change.panoraEndpointId) {
            left.push(change);
            continue;
          }
          await this.repository.update(manager, change.id, {
            ...(change.active !== undefined ? { active: change.active } : {}),
            ...(change.scope ? { scope: change.scope } : {}),
          });
        }
        return left;
      });
      for (const change of skipped) {
        result.warnings.push(`Endpoint ${change.id} changed or was being changed during the sync: sync again`);
      }
      result.updated = result.updated.filter((change) => !skipped.includes(change));
      for (const change of result.updated) await this.endpointSecrets.invalidate(change.id);
    }
    result.warnings.push(...this.overlaps.atPanora(remote, current));
    for (const warning of result.warnings) this.logger.warn(`Sync: ${warning}`);
    this.logger.log(
      `Synced with Panora: ${result.updated.length} updated, ${result.onlyLocal.length} only here, ` +
        `${result.onlyAtPanora.length} only at Panora`,
    );
    return result;
  }
}
