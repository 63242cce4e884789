import { configSlice, type SliceOf } from '../platform/config';

/** The Panora API client's settings (docs/configuration.md, "Panora"). */
export const panoraConfig = configSlice('panora', (env) => ({
  baseUrl: env.PANORA_BASE_URL,
  /** Unset: no call is sent; each caller says what is off without it. */
  apiKey: env.PANORA_API_KEY,
  timeoutMs: env.PANORA_TIMEOUT_MS,
}));
export type PanoraConfig = SliceOf<typeof panoraConfig>;
