import { configSlice, type SliceOf } from '../../platform/config';

/** The connections module's settings (docs/configuration.md). */
export const connectionsConfig = configSlice('connections', (env) => ({
  /** Without PANORA_API_KEY, Panora cannot be asked about connections: no lookup, no reconciliation. */
  panoraReachable: env.PANORA_API_KEY !== undefined,
  reconcileIntervalMs: env.CONNECTIONS_RECONCILE_INTERVAL * 1000,
}));
export type ConnectionsConfig = SliceOf<typeof connectionsConfig>;
