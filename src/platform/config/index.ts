export { ConfigError, parseEnv } from './env.schema';
export type { Env } from './env.schema';
export { decodeSecretKey, isSecretKey, SECRET_KEY_FORMAT } from './secret-key';
export { configSlice } from './config-slice';
export type { ConfigSlice, SliceOf } from './config-slice';
