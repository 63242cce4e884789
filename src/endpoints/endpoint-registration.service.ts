import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { endpointsConfig, type EndpointsConfig } from './endpoints.config';
import { SecretBox } from '../platform/secrets';
import { EndpointChangeLock } from './endpoint-change-lock';
import { EndpointOverlaps, unique } from './endpoint-scopes';
import { EndpointSecretsService } from './endpoint-secrets.service';
import { receivingUrlProblem } from './endpoint-validators';
import { EndpointViewMapper } from './endpoint-view.mapper';
import { EndpointResult, RotationResult } from './endpoint-views.dto';
import { CreateEndpointDto } from './endpoints.dto';
import { EndpointErrorCode, EndpointException, endpointNotFound } from './endpoints.exception';
import { EndpointsRepository, isEndpointId } from './endpoints.repository';
import { ENDPOINTS_LOG_CONTEXT, EndpointsService } from './endpoints.service';
import { PanoraApiError, PanoraClient, PanoraCreatedWebhook } from '../panora';
import { PanoraRegistrar } from './panora-registrar';
import { sealedSecret } from './sealed-secret';

/**
 * The registration saga with Panora: registers, enables, disables, rotates and deletes endpoints
 * there and keeps their secrets here, sealed. Panora is never called while a transaction is open;
 * when a step fails, what earlier steps made is undone, so no half-made endpoint stays behind.
 * Every change invalidates the signature guard's cached secrets. Changes of one endpoint never
 * overlap (EndpointChangeLock): a second one while the first is at Panora answers 409.
 */
@Injectable()
export class EndpointRegistrationService {
  private readonly logger = new Logger(ENDPOINTS_LOG_CONTEXT);
  private readonly graceSeconds: number;

  constructor(
    private readonly repository: EndpointsRepository,
    private readonly endpoints: EndpointsService,
    private readonly views: EndpointViewMapper,
    private readonly overlaps: EndpointOverlaps,
    private readonly registrar: PanoraRegistrar,
    private readonly panora: PanoraClient,
    private readonly secretBox: SecretBox,
    private readonly endpointSecrets: EndpointSecretsService,
    private readonly changes: EndpointChangeLock,
    @endpointsConfig.inject() config: EndpointsConfig,
  ) {
    this.graceSeconds = config.rotationGraceSeconds;
  }

  async create(dto: CreateEndpointDto): Promise<EndpointResult> {
    const scope = unique(dto.scope);
    const description = dto.description ?? null;
    const id = randomUUID();
    if (!dto.url) this.assertPublicBaseUrl();
    const url = dto.url ?? this.views.receiveUrl(id);
    const warnings = await this.overlaps.warnings(scope);

    // The row exists (inactive, without a secret) before Panora is asked, so the URL can carry its id;
    // it is born marked as being changed, so nothing else touches it before the registration ends.
    const token = this.changes.newToken();
    await this.repository.insertPending({ id, url, description, scope, changeToken: token });
    let created: PanoraCreatedWebhook;
    try {
      const registered = await this.registrar.register({ url, description, scope }, url.includes(id));
      created = registered.created;
      warnings.push(...registered.warnings);
    } catch (error) {
      await this.repository.erase(id);
      throw error;
    }
    try {
      await this.repository.transaction(async (manager) => {
        await this.changes.assertHeld(manager, id, token);
        await this.repository.update(manager, id, {
          panoraEndpointId: created.id_webhook_endpoint,
          url: created.url ?? url,
          scope: created.scope ?? scope,
          description: created.endpoint_description ?? description,
          active: created.active ?? true,
          idProject: created.id_project ?? null,
          changeToken: null,
          changeStartedAt: null,
        });
        await this.repository.insertSecret(
          manager,
          sealedSecret(this.secretBox, id, created.secret, created.id_webhook_endpoint),
        );
      });
    } catch (error) {
      // Nothing could be stored: take the registration back, or Panora would sign with a secret we lost.
      await this.repository.erase(id);
      await this.registrar.deleteQuietly(created.id_webhook_endpoint);
      throw error;
    }
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Registered endpoint ${id} at Panora as ${created.id_webhook_endpoint} (${scope.join(', ')})`);
    return { ...(await this.endpoints.get(id)), warnings };
  }

  async setActive(id: string, active: boolean): Promise<EndpointResult> {
    return this.whileChanging(id, (token) => this.changeActive(id, active, token));
  }

  private async changeActive(id: string, active: boolean, token: string): Promise<EndpointResult> {
    const endpoint = await this.endpoints.findOrFail(id);
    const warnings = active ? await this.overlaps.warnings(endpoint.scope, id) : [];
    if (endpoint.panoraEndpointId) await this.panora.updateWebhookStatus(endpoint.panoraEndpointId, active);
    await this.repository.transaction(async (manager) => {
      await this.changes.assertHeld(manager, id, token);
      await this.repository.setActive(manager, id, active);
    });
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Endpoint ${id} ${active ? 'enabled' : 'disabled'}`);
    return { ...(await this.endpoints.get(id)), warnings };
  }

  /**
   * Deletes the endpoint at Panora (one Panora already forgot counts as deleted), then here: the
   * row is kept with `deleted_at` (its events point at it), its secrets are erased.
   */
  async remove(id: string): Promise<EndpointResult> {
    return this.whileChanging(id, (token) => this.removeNow(id, token));
  }

  private async removeNow(id: string, token: string): Promise<EndpointResult> {
    const endpoint = await this.endpoints.findOrFail(id);
    const warnings: string[] = [];
    if (endpoint.panoraEndpointId) {
      try {
        await this.panora.deleteWebhook(endpoint.panoraEndpointId);
      } catch (error) {
        if (!(error instanceof PanoraApiError && error.status === 404)) throw error;
      }
    }
    // Endpoints replaced by rotations may still exist at Panora (disabled): remove them too.
    const previous = unique(
      (endpoint.secrets ?? [])
        .map((secret) => secret.panoraEndpointId)
        .filter((pid): pid is string => !!pid && pid !== endpoint.panoraEndpointId),
    );
    for (const pid of previous) {
      const problem = await this.registrar.deleteQuietly(pid);
      if (problem) warnings.push(`Could not delete the replaced Panora endpoint ${pid}: ${problem}`);
    }
    await this.repository.transaction(async (manager) => {
      await this.changes.assertHeld(manager, id, token);
      await this.repository.markDeleted(manager, id);
    });
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Deleted endpoint ${id}`);
    const deleted = await this.repository.findIncludingDeleted(id);
    return { ...this.views.view(deleted, []), warnings };
  }

  /**
   * Registers a replacement endpoint at Panora (same URL and scope), makes its secret current and
   * lets the previous one verify until the grace period ends, then disables the previous endpoint
   * at Panora. A failure of that last step is reported, not undone.
   */
  async rotate(id: string): Promise<RotationResult> {
    return this.whileChanging(id, (token) => this.rotateNow(id, token));
  }

  private async rotateNow(id: string, token: string): Promise<RotationResult> {
    const endpoint = await this.endpoints.findOrFail(id);
    const previousId = endpoint.panoraEndpointId;
    if (!previousId || !endpoint.url || endpoint.scope.length === 0) {
      throw new EndpointException(
        EndpointErrorCode.NotRotatable,
        'Only an endpoint registered at Panora, with a URL and a scope, can be rotated here; ' +
          "rotate this one in Panora's dashboard and import it again",
      );
    }
    if (!endpoint.active) {
      throw new EndpointException(EndpointErrorCode.NotRotatable, 'The endpoint is disabled: enable it first');
    }
    const { created, warnings } = await this.registrar.register(
      { url: endpoint.url, description: endpoint.description, scope: endpoint.scope },
      endpoint.url.includes(id),
    );

    const expiresAt = new Date(Date.now() + this.graceSeconds * 1000);
    try {
      await this.repository.transaction(async (manager) => {
        await this.changes.assertHeld(manager, id, token);
        const locked = await this.repository.lockRow(manager, id);
        if (!locked) throw endpointNotFound();
        if (locked.panoraEndpointId !== previousId) {
          throw new EndpointException(
            EndpointErrorCode.ChangeInProgress,
            'The endpoint changed meanwhile (another rotation?): try again',
          );
        }
        await this.repository.expireCurrentSecret(manager, id, expiresAt);
        await this.repository.insertSecret(
          manager,
          sealedSecret(this.secretBox, id, created.secret, created.id_webhook_endpoint),
        );
        await this.repository.update(manager, id, { panoraEndpointId: created.id_webhook_endpoint });
      });
    } catch (error) {
      await this.registrar.deleteQuietly(created.id_webhook_endpoint);
      throw error;
    }
    await this.endpointSecrets.invalidate(id);

    let disableError: string | undefined;
    try {
      await this.panora.updateWebhookStatus(previousId, false);
    } catch (error) {
      if (!(error instanceof PanoraApiError)) throw error;
      disableError = error.message;
      warnings.push(
        `The previous Panora endpoint ${previousId} could not be disabled (${error.message}): disable it in ` +
          `Panora's dashboard before ${expiresAt.toISOString()}, when its secret stops verifying`,
      );
      this.logger.warn(`Rotation of endpoint ${id}: ${warnings[warnings.length - 1]}`);
    }
    this.logger.log(
      `Rotated the secret of endpoint ${id}: Panora ${previousId} replaced by ${created.id_webhook_endpoint}`,
    );
    return {
      ...(await this.endpoints.get(id)),
      warnings,
      rotation: {
        previousPanoraEndpointId: previousId,
        newPanoraEndpointId: created.id_webhook_endpoint,
        previousSecretExpiresAt: expiresAt,
        previousDisabledAtPanora: disableError === undefined,
        ...(disableError ? { error: disableError } : {}),
      },
    };
  }

  /**
   * Runs one registration change of an endpoint while it holds the endpoint's change mark (404 for
   * an unknown endpoint, 409 while another change holds it) and clears the mark at the end, whatever
   * happened. The mark is set and checked in short statements of our own: no transaction stays open
   * while Panora is called.
   */
  private async whileChanging<T>(id: string, change: (token: string) => Promise<T>): Promise<T> {
    const token = isEndpointId(id) ? await this.changes.acquire(id) : null;
    if (!token) throw endpointNotFound();
    try {
      return await change(token);
    } finally {
      await this.changes.release(id, token);
    }
  }

  private assertPublicBaseUrl(): void {
    const problem = receivingUrlProblem(this.views.publicBaseUrl);
    if (problem) {
      throw new EndpointException(
        EndpointErrorCode.BadPublicUrl,
        `PUBLIC_BASE_URL ${problem}: set it to the address Panora reaches this service at, or pass url`,
      );
    }
  }
}
