export {
  MAX_DATA_DEPTH,
  PayloadTooDeepError,
  mayHoldCredentials,
  redactCredentials,
  redactObject,
  revealCredentials,
  sealCredentialsJson,
} from './payload-secrets';
export { SecretBox, SecretBoxError } from './secret-box';
export { SecretsModule } from './secrets.module';
export { REDACTED_VALUE, isCredentialKey, redactLogValue } from './payload-secrets';
