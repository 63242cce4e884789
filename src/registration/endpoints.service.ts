import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { AppException } from '../common/http-exception.filter';
import type { Env } from '../config/env.schema';
import { SecretBox } from '../secrets/secret-box';
import { EndpointChangeLock } from './endpoint-change-lock';
import { EndpointSecretsService } from './endpoint-secrets.service';
import { SyncResult } from './endpoint-sync.dto';
import { receivingUrlProblem } from './endpoint-validators';
import { EndpointResult, EndpointView, ImportOutcome, ImportResult, RotationResult } from './endpoint-views.dto';
import { CreateEndpointDto, ImportEndpointDto } from './endpoints.dto';
import { CreateWebhookInput, PanoraApiError, PanoraClient, PanoraCreatedWebhook, PanoraWebhook } from './panora.client';
import { WebhookEndpointSecret } from './webhook-endpoint-secret.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export enum EndpointErrorCode {
  NotFound = 'ENDPOINT_NOT_FOUND',
  NotRotatable = 'ENDPOINT_NOT_ROTATABLE',
  BadPublicUrl = 'PUBLIC_BASE_URL_NOT_HTTPS',
  PanoraError = 'PANORA_ERROR',
  PanoraNotConfigured = 'PANORA_NOT_CONFIGURED',
  ChangeInProgress = 'ENDPOINT_CHANGE_IN_PROGRESS',
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const unique = (values: string[]) => [...new Set(values)];
const sameSet = (a: string[], b: string[]) => a.length === b.length && unique([...a, ...b]).length === a.length;

/** Turns a Panora failure into the answer the admin sees: 502 with Panora's status (503 when unset). */
function panoraFailure(error: unknown, note = ''): unknown {
  if (!(error instanceof PanoraApiError)) return error;
  if (error.failure === 'not_configured') {
    return new AppException(HttpStatus.SERVICE_UNAVAILABLE, error.message, EndpointErrorCode.PanoraNotConfigured);
  }
  const hint = error.status === 401 || error.status === 403 ? '; check PANORA_API_KEY' : '';
  return new AppException(HttpStatus.BAD_GATEWAY, `${error.message}${hint}${note}`, EndpointErrorCode.PanoraError);
}

/** An endpoint Panora registered for us, and what the admin should know about how it was obtained. */
interface Registered {
  created: PanoraCreatedWebhook;
  warnings: string[];
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string } })?.driverError?.code === '23505';
}

/** Equal secrets, compared in constant time (hashed first, so lengths do not show either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The endpoints admin API: registers endpoints at Panora and keeps their secrets, sealed. Panora
 * is never called while a transaction is open; when a step fails, what earlier steps made is
 * undone, so no half-made endpoint stays behind. Every change invalidates the signature guard's
 * cached secrets. Changes of one endpoint never overlap (EndpointChangeLock): a second one while
 * the first is at Panora answers 409.
 */
@Injectable()
export class EndpointsService {
  private readonly logger = new Logger(EndpointsService.name);
  private readonly publicBaseUrl: string;
  private readonly graceSeconds: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly panora: PanoraClient,
    private readonly secretBox: SecretBox,
    private readonly endpointSecrets: EndpointSecretsService,
    private readonly changes: EndpointChangeLock,
    config: ConfigService<Env, true>,
  ) {
    this.publicBaseUrl =
      config.get('PUBLIC_BASE_URL', { infer: true }) ?? `http://localhost:${config.get('PORT', { infer: true })}`;
    this.graceSeconds = config.get('SECRET_ROTATION_GRACE', { infer: true });
  }

  receiveUrl(id: string): string {
    return `${this.publicBaseUrl}/webhooks/panora/${id}`;
  }

  async create(dto: CreateEndpointDto): Promise<EndpointResult> {
    const scope = unique(dto.scope);
    const description = dto.description ?? null;
    const id = randomUUID();
    if (!dto.url) this.assertPublicBaseUrl();
    const url = dto.url ?? this.receiveUrl(id);
    const warnings = await this.overlapWarnings(scope);

    // The row exists (inactive, without a secret) before Panora is asked, so the URL can carry its id;
    // it is born marked as being changed, so nothing else touches it before the registration ends.
    const token = this.changes.newToken();
    await this.endpoints.insert({
      id,
      url,
      description,
      scope,
      active: false,
      changeToken: token,
      changeStartedAt: () => 'now()',
    });
    let created: PanoraCreatedWebhook;
    try {
      const registered = await this.registerAtPanora({ url, description, scope }, url.includes(id));
      created = registered.created;
      warnings.push(...registered.warnings);
    } catch (error) {
      await this.endpoints.delete(id);
      throw error;
    }
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.changes.assertHeld(manager, id, token);
        await manager.update(WebhookEndpoint, id, {
          panoraEndpointId: created.id_webhook_endpoint,
          url: created.url ?? url,
          scope: created.scope ?? scope,
          description: created.endpoint_description ?? description,
          active: created.active ?? true,
          idProject: created.id_project ?? null,
          changeToken: null,
          changeStartedAt: null,
        });
        await manager.insert(WebhookEndpointSecret, this.sealed(id, created.secret, created.id_webhook_endpoint));
      });
    } catch (error) {
      // Nothing could be stored: take the registration back, or Panora would sign with a secret we lost.
      await this.endpoints.delete(id);
      await this.deleteAtPanoraQuietly(created.id_webhook_endpoint);
      throw error;
    }
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Registered endpoint ${id} at Panora as ${created.id_webhook_endpoint} (${scope.join(', ')})`);
    return { ...(await this.get(id)), warnings };
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
    const warnings = await this.overlapWarnings(scope);
    try {
      await this.dataSource.transaction(async (manager) => {
        // A deleted endpoint keeps its Panora id; importing that id again makes a new endpoint.
        if (panoraEndpointId) {
          await manager.query(
            'UPDATE webhook_endpoints SET panora_endpoint_id = NULL WHERE panora_endpoint_id = $1 AND deleted_at IS NOT NULL',
            [panoraEndpointId],
          );
        }
        await manager.insert(WebhookEndpoint, {
          id,
          panoraEndpointId,
          url: dto.url ?? this.receiveUrl(id),
          description: null,
          scope,
          active: true,
        });
        await manager.insert(WebhookEndpointSecret, this.sealed(id, dto.secret, panoraEndpointId));
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
    return { ...(await this.get(id)), warnings, outcome: 'created', previousSecretExpiresAt: null };
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
    const done = await this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<{ id: string }[]>(
        'SELECT id FROM webhook_endpoints WHERE panora_endpoint_id = $1 AND deleted_at IS NULL',
        [panoraEndpointId],
      );
      if (!row) return null;
      await this.changes.assertFree(manager, row.id);
      const endpoint = await manager.findOne(WebhookEndpoint, { where: { id: row.id }, relations: { secrets: true } });
      if (!endpoint) return null;
      if (endpoint.panoraEndpointId !== panoraEndpointId) {
        throw new AppException(
          HttpStatus.CONFLICT,
          `Endpoint ${endpoint.id} was rotated while Panora endpoint ${panoraEndpointId} was imported again: retry`,
          EndpointErrorCode.ChangeInProgress,
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
        await manager
          .createQueryBuilder()
          .delete()
          .from(WebhookEndpointSecret)
          .where('endpoint_id = :id AND expires_at <= now()', { id: endpoint.id })
          .execute();
        await manager.update(WebhookEndpointSecret, { endpointId: endpoint.id, expiresAt: IsNull() }, { expiresAt });
        // A secret still in its grace period (imported back) is current again rather than stored twice.
        if (match) await manager.update(WebhookEndpointSecret, match.id, { expiresAt: null });
        else await manager.insert(WebhookEndpointSecret, this.sealed(endpoint.id, dto.secret, panoraEndpointId));
        outcome = 'secret_replaced';
      }
      const update: Partial<Pick<WebhookEndpoint, 'scope' | 'url'>> = {};
      if (scope.length > 0 && !sameSet(scope, endpoint.scope)) update.scope = scope;
      if (dto.url && dto.url !== endpoint.url) update.url = dto.url;
      if (update.scope || update.url) {
        await manager.update(WebhookEndpoint, endpoint.id, update);
        if (outcome === 'unchanged') outcome = 'updated';
      }
      return { endpoint, outcome, previousSecretExpiresAt, scopeChanged: !!update.scope };
    });
    if (!done) return null;
    const { endpoint, outcome, previousSecretExpiresAt, scopeChanged } = done;
    const { id } = endpoint;
    const warnings = scopeChanged && endpoint.active ? await this.overlapWarnings(scope, id) : [];
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
    return { ...(await this.get(id)), warnings, outcome, previousSecretExpiresAt };
  }

  async list(): Promise<EndpointView[]> {
    const endpoints = await this.endpoints.find({
      relations: { secrets: true },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return endpoints.map((endpoint) => this.view(endpoint));
  }

  /** One endpoint; 404 for an unknown, deleted or malformed id. */
  async get(id: string): Promise<EndpointView> {
    return this.view(await this.findOrFail(id));
  }

  async setActive(id: string, active: boolean): Promise<EndpointResult> {
    return this.whileChanging(id, (token) => this.changeActive(id, active, token));
  }

  private async changeActive(id: string, active: boolean, token: string): Promise<EndpointResult> {
    const endpoint = await this.findOrFail(id);
    const warnings = active ? await this.overlapWarnings(endpoint.scope, id) : [];
    if (endpoint.panoraEndpointId) {
      try {
        await this.panora.updateWebhookStatus(endpoint.panoraEndpointId, active);
      } catch (error) {
        throw panoraFailure(error);
      }
    }
    await this.dataSource.transaction(async (manager) => {
      await this.changes.assertHeld(manager, id, token);
      await manager.update(WebhookEndpoint, { id, deletedAt: IsNull() }, { active });
    });
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Endpoint ${id} ${active ? 'enabled' : 'disabled'}`);
    return { ...(await this.get(id)), warnings };
  }

  /**
   * Deletes the endpoint at Panora (one Panora already forgot counts as deleted), then here: the
   * row is kept with `deleted_at` (its events point at it), its secrets are erased.
   */
  async remove(id: string): Promise<EndpointResult> {
    return this.whileChanging(id, (token) => this.removeNow(id, token));
  }

  private async removeNow(id: string, token: string): Promise<EndpointResult> {
    const endpoint = await this.findOrFail(id);
    const warnings: string[] = [];
    if (endpoint.panoraEndpointId) {
      try {
        await this.panora.deleteWebhook(endpoint.panoraEndpointId);
      } catch (error) {
        if (!(error instanceof PanoraApiError && error.status === 404)) throw panoraFailure(error);
      }
    }
    // Endpoints replaced by rotations may still exist at Panora (disabled): remove them too.
    const previous = unique(
      (endpoint.secrets ?? [])
        .map((secret) => secret.panoraEndpointId)
        .filter((pid): pid is string => !!pid && pid !== endpoint.panoraEndpointId),
    );
    for (const pid of previous) {
      const problem = await this.deleteAtPanoraQuietly(pid);
      if (problem) warnings.push(`Could not delete the replaced Panora endpoint ${pid}: ${problem}`);
    }
    await this.dataSource.transaction(async (manager) => {
      await this.changes.assertHeld(manager, id, token);
      await manager.update(WebhookEndpoint, id, { active: false, deletedAt: new Date() });
      await manager.delete(WebhookEndpointSecret, { endpointId: id });
    });
    await this.endpointSecrets.invalidate(id);
    this.logger.log(`Deleted endpoint ${id}`);
    const deleted = await this.endpoints.findOneOrFail({ where: { id }, withDeleted: true });
    return { ...this.view(deleted, []), warnings };
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
    const endpoint = await this.findOrFail(id);
    const previousId = endpoint.panoraEndpointId;
    if (!previousId || !endpoint.url || endpoint.scope.length === 0) {
      throw new AppException(
        HttpStatus.CONFLICT,
        'Only an endpoint registered at Panora, with a URL and a scope, can be rotated here; ' +
          "rotate this one in Panora's dashboard and import it again",
        EndpointErrorCode.NotRotatable,
      );
    }
    if (!endpoint.active) {
      throw new AppException(
        HttpStatus.CONFLICT,
        'The endpoint is disabled: enable it first',
        EndpointErrorCode.NotRotatable,
      );
    }
    const { created, warnings } = await this.registerAtPanora(
      { url: endpoint.url, description: endpoint.description, scope: endpoint.scope },
      endpoint.url.includes(id),
    );

    const expiresAt = new Date(Date.now() + this.graceSeconds * 1000);
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.changes.assertHeld(manager, id, token);
        const locked = await manager
          .createQueryBuilder(WebhookEndpoint, 'e')
          .setLock('pessimistic_write')
          .where('e.id = :id', { id })
          .getOne();
        if (!locked) throw this.notFound();
        if (locked.panoraEndpointId !== previousId) {
          throw new AppException(HttpStatus.CONFLICT, 'The endpoint changed meanwhile (another rotation?): try again');
        }
        await manager
          .createQueryBuilder()
          .delete()
          .from(WebhookEndpointSecret)
          .where('endpoint_id = :id AND expires_at <= now()', { id })
          .execute();
        await manager.update(WebhookEndpointSecret, { endpointId: id, expiresAt: IsNull() }, { expiresAt });
        await manager.insert(WebhookEndpointSecret, this.sealed(id, created.secret, created.id_webhook_endpoint));
        await manager.update(WebhookEndpoint, id, { panoraEndpointId: created.id_webhook_endpoint });
      });
    } catch (error) {
      await this.deleteAtPanoraQuietly(created.id_webhook_endpoint);
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
      ...(await this.get(id)),
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

  /** Compares with Panora's `GET /webhooks`: reports one-sided endpoints, takes `active` and scope from Panora. */
  async sync(): Promise<SyncResult> {
    let remote: PanoraWebhook[];
    try {
      remote = await this.panora.listWebhooks();
    } catch (error) {
      throw panoraFailure(error);
    }
    const local = await this.endpoints.find({ relations: { secrets: true }, order: { createdAt: 'ASC' } });
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
      const skipped = await this.dataSource.transaction(async (manager) => {
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
          await manager.update(WebhookEndpoint, change.id, {
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
    result.warnings.push(...this.remoteOverlaps(remote, current));
    for (const warning of result.warnings) this.logger.warn(`Sync: ${warning}`);
    this.logger.log(
      `Synced with Panora: ${result.updated.length} updated, ${result.onlyLocal.length} only here, ` +
        `${result.onlyAtPanora.length} only at Panora`,
    );
    return result;
  }

  private get endpoints() {
    return this.dataSource.getRepository(WebhookEndpoint);
  }

  private async findOrFail(id: string): Promise<WebhookEndpoint> {
    const endpoint = UUID.test(id)
      ? await this.endpoints.findOne({ where: { id }, relations: { secrets: true } })
      : null;
    if (!endpoint) throw this.notFound();
    return endpoint;
  }

  /**
   * Runs one registration change of an endpoint while it holds the endpoint's change mark (404 for
   * an unknown endpoint, 409 while another change holds it) and clears the mark at the end, whatever
   * happened. The mark is set and checked in short statements of our own: no transaction stays open
   * while Panora is called.
   */
  private async whileChanging<T>(id: string, change: (token: string) => Promise<T>): Promise<T> {
    const token = UUID.test(id) ? await this.changes.acquire(id) : null;
    if (!token) throw this.notFound();
    try {
      return await change(token);
    } finally {
      await this.changes.release(id, token);
    }
  }

  private notFound(): AppException {
    return new AppException(HttpStatus.NOT_FOUND, 'No such endpoint', EndpointErrorCode.NotFound);
  }

  private assertPublicBaseUrl(): void {
    const problem = receivingUrlProblem(this.publicBaseUrl);
    if (problem) {
      throw new AppException(
        HttpStatus.BAD_REQUEST,
        `PUBLIC_BASE_URL ${problem}: set it to the address Panora reaches this service at, or pass url`,
        EndpointErrorCode.BadPublicUrl,
      );
    }
  }

  private sealed(endpointId: string, secret: string, panoraEndpointId: string | null): Partial<WebhookEndpointSecret> {
    return {
      endpointId,
      sealedSecret: this.secretBox.seal(secret),
      hint: secret.slice(-4),
      panoraEndpointId,
      expiresAt: null,
    };
  }

  private view(endpoint: WebhookEndpoint, secrets = endpoint.secrets ?? []): EndpointView {
    return {
      id: endpoint.id,
      panoraEndpointId: endpoint.panoraEndpointId,
      url: endpoint.url,
      receiveUrl: this.receiveUrl(endpoint.id),
      description: endpoint.description,
      scope: endpoint.scope,
      active: endpoint.active,
      idProject: endpoint.idProject,
      createdAt: endpoint.createdAt,
      updatedAt: endpoint.updatedAt,
      deletedAt: endpoint.deletedAt,
      secrets: [...secrets]
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .map((secret) => ({
          id: secret.id,
          hint: secret.hint,
          panoraEndpointId: secret.panoraEndpointId,
          createdAt: secret.createdAt,
          expiresAt: secret.expiresAt,
        })),
    };
  }

  /** Panora delivers an event to only one matching active endpoint: overlapping scopes split events. */
  private async overlapWarnings(scope: string[], exceptId?: string): Promise<string[]> {
    if (scope.length === 0) return [];
    const active = await this.endpoints.findBy({ active: true });
    const warnings = active
      .filter((other) => other.id !== exceptId)
      .map((other) => ({ other, shared: scope.filter((item) => other.scope.includes(item)) }))
      .filter(({ shared }) => shared.length > 0)
      .map(
        ({ other, shared }) =>
          `Scope ${shared.join(', ')} overlaps active endpoint ${other.id}: Panora delivers each event to only ` +
          'one matching endpoint of a project, so these events will reach only one of the two',
      );
    for (const warning of warnings) this.logger.warn(warning);
    return warnings;
  }

  private remoteOverlaps(remote: PanoraWebhook[], current: Map<string, WebhookEndpoint>): string[] {
    const active = remote.filter((row) => row.active !== false && (row.scope ?? []).length > 0);
    const name = (row: PanoraWebhook) => {
      const local = current.get(row.id_webhook_endpoint);
      return `Panora endpoint ${row.id_webhook_endpoint}${local ? ` (endpoint ${local.id})` : ''}`;
    };
    const warnings: string[] = [];
    for (let i = 0; i < active.length; i++) {
      for (let j = i + 1; j < active.length; j++) {
        const shared = (active[i].scope ?? []).filter((item) => (active[j].scope ?? []).includes(item));
        if (shared.length > 0) {
          warnings.push(
            `${name(active[i])} and ${name(active[j])} both subscribe to ${shared.join(', ')}: ` +
              'Panora delivers each of these events to only one of them',
          );
        }
      }
    }
    return warnings;
  }

  /**
   * `POST /webhooks`, sent once. Panora may have made the endpoint although the call failed (a 5xx
   * after its write, a timeout, a dropped connection, a malformed 2xx): resending would make a
   * second one, with a secret we would never see, and Panora delivers each event to only one
   * matching endpoint. So after such a failure its endpoints are listed and settled instead: when
   * `ownUrl` (the URL carries the local id, so whatever Panora holds there and we do not know is
   * ours), one endpoint made there is adopted with its secret and any others are deleted; when
   * it made none, the call answers 502 saying so. A URL given by the admin proves nothing: an
   * endpoint found there is reported, never adopted or deleted.
   */
  private async registerAtPanora(input: CreateWebhookInput, ownUrl: boolean): Promise<Registered> {
    try {
      return { created: await this.panora.createWebhook(input), warnings: [] };
    } catch (error) {
      if (!(error instanceof PanoraApiError) || !error.mayHaveActed) throw panoraFailure(error);
      return this.settleFailedCreate(error, input.url, ownUrl);
    }
  }

  private async settleFailedCreate(error: PanoraApiError, url: string, ownUrl: boolean): Promise<Registered> {
    let rows: PanoraWebhook[];
    try {
      rows = await this.panora.listWebhooks();
    } catch (listError) {
      const why = listError instanceof Error ? listError.message : String(listError);
      this.logger.warn(`${error.message}; could not list Panora's endpoints to look for one made anyway: ${why}`);
      throw panoraFailure(
        error,
        `. Panora may have registered ${url} anyway, and listing its endpoints to check failed too (${why}): ` +
          "look for it in Panora's dashboard and delete it",
      );
    }
    // Endpoints this service already knows (a rotation's current and replaced ones) are not new;
    // neither is a disabled one (a new endpoint starts active, and Panora delivers nothing to it).
    const known = new Set(await this.knownPanoraIds());
    const made = rows.filter((row) => row.url === url && row.active !== false && !known.has(row.id_webhook_endpoint));
    if (made.length === 0) {
      throw panoraFailure(
        error,
        `; Panora holds no new endpoint for ${url} (checked with GET /webhooks): nothing was registered`,
      );
    }
    const ids = made.map((row) => row.id_webhook_endpoint).join(', ');
    if (!ownUrl) {
      this.logger.warn(`${error.message}; Panora holds endpoint(s) ${ids} at ${url} that this service does not know`);
      throw panoraFailure(
        error,
        `. Panora holds endpoint(s) ${ids} at ${url} that this service does not know, perhaps made despite the ` +
          "failure: import the one to keep (POST /admin/endpoints/import) and delete the others in Panora's dashboard",
      );
    }

    // One with a secret to verify with is kept, every other one goes.
    const adopted = made.find((row) => !!row.secret);
    const extras = made.filter((row) => row !== adopted);
    const warnings: string[] = [];
    let removed = 0;
    for (const extra of extras) {
      const problem = await this.deleteAtPanoraQuietly(extra.id_webhook_endpoint);
      if (!problem) {
        removed++;
        continue;
      }
      warnings.push(
        `Panora endpoint ${extra.id_webhook_endpoint} at ${url} could not be deleted (${problem}): delete it in ` +
          "Panora's dashboard, or the events Panora hands to it are signed with a secret this service does not hold",
      );
    }
    if (!adopted?.secret) {
      throw panoraFailure(
        error,
        `. Panora made ${ids} for ${url} anyway but listed it without a secret to verify with; ` +
          (warnings.length > 0 ? warnings.join('; ') : 'it was deleted, so nothing was registered'),
      );
    }
    warnings.unshift(
      `${error.message}, but Panora had registered the endpoint: Panora endpoint ${adopted.id_webhook_endpoint} ` +
        `was taken from GET /webhooks${removed > 0 ? `, and ${removed} duplicate(s) removed` : ''}`,
    );
    for (const warning of warnings) this.logger.warn(warning);
    return { created: { ...adopted, secret: adopted.secret }, warnings };
  }

  /** Every Panora endpoint id this service holds, current or replaced by a rotation. */
  private async knownPanoraIds(): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT panora_endpoint_id AS id FROM webhook_endpoints WHERE panora_endpoint_id IS NOT NULL
       UNION SELECT panora_endpoint_id FROM webhook_endpoint_secrets WHERE panora_endpoint_id IS NOT NULL`,
    );
    return rows.map((row) => row.id);
  }

  /** Deletes an endpoint at Panora; returns the problem instead of throwing (best-effort undo). */
  private async deleteAtPanoraQuietly(panoraEndpointId: string): Promise<string | null> {
    try {
      await this.panora.deleteWebhook(panoraEndpointId);
      return null;
    } catch (error) {
      if (error instanceof PanoraApiError && error.status === 404) return null;
      const message = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Could not delete Panora endpoint ${panoraEndpointId}: ${message}`);
      return message;
    }
  }
}
