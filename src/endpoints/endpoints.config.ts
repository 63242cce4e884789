import { configSlice, type SliceOf } from '../platform/config';

/** The registration module's settings (docs/configuration.md). */
export const endpointsConfig = configSlice('endpoints', (env) => ({
  /** How registered URLs start: `${publicBaseUrl}/webhooks/panora/<id>`. */
  publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`,
  /** How long a rotated-out secret still verifies, in seconds. */
  rotationGraceSeconds: env.SECRET_ROTATION_GRACE,
  /**
   * How long a registration change may hold its endpoint: long enough for its calls to Panora
   * (each up to PANORA_TIMEOUT_MS, retried), at least a minute.
   */
  changeLeaseMs: Math.max(60_000, 30 * env.PANORA_TIMEOUT_MS),
}));
export type EndpointsConfig = SliceOf<typeof endpointsConfig>;
