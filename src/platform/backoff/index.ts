export { backoffDelay } from './backoff';
