import { Injectable, Logger } from '@nestjs/common';
import { EndpointsRepository } from './endpoints.repository';
import { ENDPOINTS_LOG_CONTEXT } from './endpoints.service';
import type { PanoraWebhook } from '../panora';
import type { WebhookEndpoint } from './webhook-endpoint.entity';

export const unique = (values: string[]) => [...new Set(values)];
export const sameSet = (a: string[], b: string[]) => a.length === b.length && unique([...a, ...b]).length === a.length;

/**
 * The overlap policy: Panora delivers an event to only one matching active endpoint of a project,
 * so overlapping scopes split events. Overlaps are warned about, never refused.
 */
@Injectable()
export class EndpointOverlaps {
  private readonly logger = new Logger(ENDPOINTS_LOG_CONTEXT);

  constructor(private readonly repository: EndpointsRepository) {}

  /** Warnings for a scope overlapping the active endpoints here (logged too). */
  async warnings(scope: string[], exceptId?: string): Promise<string[]> {
    if (scope.length === 0) return [];
    const active = await this.repository.listActive();
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

  /** Warnings for the active endpoints at Panora overlapping each other. */
  atPanora(remote: PanoraWebhook[], current: Map<string, WebhookEndpoint>): string[] {
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
}
