export {
  activeTraceparent,
  contextFrom,
  contextOfTraceparent,
  spanContextOf,
  traceHeaders,
  type TraceHeaders,
} from './trace-context';
export { isTracing, loadConventions, otlpEndpoint, startTracing, stopTracing, tracer } from './tracing';
export { TRACE_EXPORTER, Tracing, TracingModule } from './tracing.module';
