export { loggerParams, requestId } from './logging';
export { bootLogger, failureLogger, PRETTY_MISSING } from './log-output';
