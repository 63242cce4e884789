import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretBox } from '../platform/secrets';
import type { WebhookEndpointSecret } from './webhook-endpoint-secret.entity';

/** A new current secret row for an endpoint: the value sealed, only its last 4 characters in clear. */
export function sealedSecret(
  secretBox: SecretBox,
  endpointId: string,
  secret: string,
  panoraEndpointId: string | null,
): Partial<WebhookEndpointSecret> {
  return {
    endpointId,
    sealedSecret: secretBox.seal(secret),
    hint: secret.slice(-4),
    panoraEndpointId,
    expiresAt: null,
  };
}

/** Equal secrets, compared in constant time (hashed first, so lengths do not show either). */
export function sameSecret(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}
