export { loggerParams, requestId } from './logging';
