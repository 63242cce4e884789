import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { endpointsConfig, type EndpointsConfig } from './endpoints.config';
import { SecretBox } from '../platform/secrets';
import { EndpointChangeLock } from './endpoint-change-lock';
import { EndpointOverlaps, sameSet, unique } from './endpoint-scopes';
import { EndpointSecretsService } from './endpoint-secrets.service';
import { ImportOutcome, ImportResult } from './endpoint-views.dto';
import { ImportEndpointDto } from './endpoints.dto';
import { EndpointErrorCode, EndpointException } from './endpoints.exception';
import { EndpointsRepository, isUniqueViolation } from './endpoints.repository';
import { ENDPOINTS_LOG_CONTEXT, EndpointsService } from './endpoints.service';
import { sameSecret, sealedSecret } from './sealed-secret';
import { EndpointViewMapper } from './endpoint-view.mapper';
import { WebhookEndpoint } from './webhook-endpoint.entity';

/**
 * Adopts endpoints made in Panora's dashboard, with the secret Panora showed there. No call to
 * Panora: each import is one transaction. Every change invalidates the signature guard's cached
 * secrets.
 */
@Injectable()
export class EndpointImportService {
  private readonly logger = new Logger(ENDPOINTS_LOG_CONTEXT);
  private readonly graceSeconds: number;

  constructor(
    private readonly repository: EndpointsRepository,
    private readonly endpoints: EndpointsService,
    private readonly views: EndpointViewMapper,
    private readonly overlaps: EndpointOverlaps,
    private readonly secretBox: SecretBox,
    private readonly endpointSecrets: EndpointSecretsService,
    private readonly changes: EndpointChangeLock,
    @endpointsConfig.inject() config: EndpointsConfig,
  ) {
    this.graceSeconds = config.rotationGraceSeconds;
  }

  /**
   * Adopts an endpoint made in Panora's dashboard. Imported again with the same Panora id (its
   * secret was changed in the dashboard), the endpoint already here is updated instead (see
   * `importAgain`), so its receive URL stays valid. Without a Panora id every import makes a
   * new endpoint.
   */
  async import(dto: ImportEndpointDto): Promise<ImportResult> {
    const panoraEndpointId = dto.id_webhook_endpoint ?? null;
    if (panoraEndpointId) {
      const again = await this.importAgain(panoraEndpointId, dto);
      if (again) return again;
    }
    const scope = unique(dto.scope ?? []);
    const id = randomUUID();
    const warnings = await this.overlaps.warnings(scope);
    try {
      await this.repository.transaction(async (manager) => {
        // A deleted endpoint keeps its Panora id; importing that id again makes a new endpoint.
        if (panoraEndpointId) await this.repository.releasePanoraIdOfDeleted(manager, panoraEndpointId);
        await this.repository.insert(manager, {
          id,
          panoraEndpointId,
          url: dto.url ?? this.views.receiveUrl(id),
          description: null,
          scope,
          active: true,
        });
        await this.repository.insertSecret(manager, sealedSecret(this.secretBox, id, dto.secret, panoraEndpointId));
      });
    } catch (error) {
      // Imported by another request at the same moment: this one updates that endpoint instead.
      if (!isUniqueViolation(error) || !panoraEndpointId) throw error;
      const again = await this.importAgain(panoraEndpointId, dto);
      if (!again) throw error;
      return again;
    }
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Imported endpoint ${id} (Panora ${panoraEndpointId ?? 'id unknown'})`);
    return { ...(await this.endpoints.get(id)), warnings, outcome: 'created', previousSecretExpiresAt: null };
  }

  /**
   * An import of a Panora endpoint already imported here: null when none is. The secret given
   * becomes current and the previous one verifies for SECRET_ROTATION_GRACE, like a rotation
   * (`secret_replaced`); the current secret again changes nothing (`unchanged`). A scope or url
   * given and different from the stored one replaces it (`updated` when the secret is the same);
   * left out, the stored one stays. The endpoint keeps its id, so its receive URL stays valid.
   * No call to Panora: the row is locked only for these writes.
   */
  private async importAgain(panoraEndpointId: string, dto: ImportEndpointDto): Promise<ImportResult | null> {
    const scope = unique(dto.scope ?? []);
    const done = await this.repository.transaction(async (manager) => {
      const rowId = await this.repository.findIdByPanoraId(manager, panoraEndpointId);
      if (!rowId) return null;
      await this.changes.assertFree(manager, rowId);
      const endpoint = await this.repository.findWithSecrets(rowId, manager);
      if (!endpoint) return null;
      if (endpoint.panoraEndpointId !== panoraEndpointId) {
        throw new EndpointException(
          EndpointErrorCode.ChangeInProgress,
          `Endpoint ${endpoint.id} was rotated while Panora endpoint ${panoraEndpointId} was imported again: retry`,
        );
      }
      let outcome: ImportOutcome = 'unchanged';
      let previousSecretExpiresAt: Date | null = null;
      const now = Date.now();
      const live = (endpoint.secrets ?? []).filter((secret) => !secret.expiresAt || secret.expiresAt.getTime() > now);
      const match = live.find((secret) => sameSecret(this.secretBox.open(secret.sealedSecret), dto.secret));
      if (!match || match.expiresAt) {
        const expiresAt = new Date(now + this.graceSeconds * 1000);
        if (live.some((secret) => !secret.expiresAt)) previousSecretExpiresAt = expiresAt;
        await this.repository.expireCurrentSecret(manager, endpoint.id, expiresAt);
        // A secret still in its grace period (imported back) is current again rather than stored twice.
        if (match) await this.repository.makeSecretCurrent(manager, match.id);
        else {
          await this.repository.insertSecret(
            manager,
            sealedSecret(this.secretBox, endpoint.id, dto.secret, panoraEndpointId),
          );
        }
        outcome = 'secret_replaced';
      }
      const update: Partial<Pick<WebhookEndpoint, 'scope' | 'url'>> = {};
      if (scope.length > 0 && !sameSet(scope, endpoint.scope)) update.scope = scope;
      if (dto.url && dto.url !== endpoint.url) update.url = dto.url;
      if (update.scope || update.url) {
        await this.repository.update(manager, endpoint.id, update);
        if (outcome === 'unchanged') outcome = 'updated';
      }
      return { endpoint, outcome, previousSecretExpiresAt, scopeChanged: !!update.scope };
    });
    if (!done) return null;
    const { endpoint, outcome, previousSecretExpiresAt, scopeChanged } = done;
    const { id } = endpoint;
    const warnings = scopeChanged && endpoint.active ? await this.overlaps.warnings(scope, id) : [];
    if (!endpoint.active) {
      warnings.push(`Endpoint ${id} is disabled: its deliveries are refused until it is enabled (PATCH active: true)`);
    }
    if (outcome !== 'unchanged') await this.endpointSecrets.invalidate(id);
    this.logger.log(
      `Panora endpoint ${panoraEndpointId} imported again into endpoint ${id}: ${outcome.replace('_', ' ')}` +
        (previousSecretExpiresAt
          ? `; the previous secret verifies until ${previousSecretExpiresAt.toISOString()}`
          : ''),
    );
    return { ...(await this.endpoints.get(id)), warnings, outcome, previousSecretExpiresAt };
  }
}
