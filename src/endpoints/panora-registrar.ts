import { Injectable, Logger } from '@nestjs/common';
import { EndpointsRepository } from './endpoints.repository';
import { withNote } from './endpoints.exception';
import { ENDPOINTS_LOG_CONTEXT } from './endpoints.service';
import { CreateWebhookInput, PanoraApiError, PanoraClient, PanoraCreatedWebhook, PanoraWebhook } from '../panora';

/** An endpoint Panora registered for us, and what the admin should know about how it was obtained. */
export interface Registered {
  created: PanoraCreatedWebhook;
  warnings: string[];
}

/**
 * Registers endpoints at Panora and deletes them there, settling what Panora holds after a
 * failed registration. Called by the registration saga, never inside a transaction.
 */
@Injectable()
export class PanoraRegistrar {
  private readonly logger = new Logger(ENDPOINTS_LOG_CONTEXT);

  constructor(
    private readonly panora: PanoraClient,
    private readonly repository: EndpointsRepository,
  ) {}

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
  async register(input: CreateWebhookInput, ownUrl: boolean): Promise<Registered> {
    try {
      return { created: await this.panora.createWebhook(input), warnings: [] };
    } catch (error) {
      if (!(error instanceof PanoraApiError) || !error.mayHaveActed) throw error;
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
      throw withNote(
        error,
        `. Panora may have registered ${url} anyway, and listing its endpoints to check failed too (${why}): ` +
          "look for it in Panora's dashboard and delete it",
      );
    }
    // Endpoints this service already knows (a rotation's current and replaced ones) are not new;
    // neither is a disabled one (a new endpoint starts active, and Panora delivers nothing to it).
    const known = new Set(await this.repository.knownPanoraIds());
    const made = rows.filter((row) => row.url === url && row.active !== false && !known.has(row.id_webhook_endpoint));
    if (made.length === 0) {
      throw withNote(
        error,
        `; Panora holds no new endpoint for ${url} (checked with GET /webhooks): nothing was registered`,
      );
    }
    const ids = made.map((row) => row.id_webhook_endpoint).join(', ');
    if (!ownUrl) {
      this.logger.warn(`${error.message}; Panora holds endpoint(s) ${ids} at ${url} that this service does not know`);
      throw withNote(
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
      const problem = await this.deleteQuietly(extra.id_webhook_endpoint);
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
      throw withNote(
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

  /** Deletes an endpoint at Panora; returns the problem instead of throwing (best-effort undo). */
  async deleteQuietly(panoraEndpointId: string): Promise<string | null> {
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
