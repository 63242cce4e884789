import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger, type Tracer } from '@opentelemetry/api';
import type { NodeTracerProvider, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { loadCore } from './trace-context';

/*
 * The SDK, its exporter and their dependencies are loaded when tracing starts, not with the module:
 * with tracing off (the default) they would only take memory (~17 MB of a process's RSS, measured).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see above */
const loadSdk = () => require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
const loadResources = () => require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
const loadExporter = () =>
  require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
/** OpenTelemetry's semantic conventions (attribute names): for traced places, with tracing on. */
export const loadConventions = () =>
  require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
/* eslint-enable @typescript-eslint/no-require-imports */

/** `service.name` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names another. */
export const DEFAULT_SERVICE_NAME = 'panora-webhooks';
/** The instrumentation scope of every span the service makes. */
const TRACER_NAME = 'panora-webhooks';

/**
 * The environment, for OpenTelemetry's own variables (read as its SDK reads them):
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SDK_DISABLED,
 * OTEL_TRACES_SAMPLER (the SDK reads OTEL_SERVICE_NAME and the exporter's from process.env).
 */
export type TracingEnv = Readonly<Record<string, string | undefined>>;

export interface TracingOptions {
  env?: TracingEnv;
  /** Tests: export here (synchronously, span by span) instead of OTLP; turns tracing on by itself. */
  exporter?: SpanExporter;
  /** Where OpenTelemetry's own warnings and errors (an exporter that cannot reach its collector) go. */
  logger?: Pick<DiagLogger, 'warn' | 'error'>;
}

/** What was started, for the start-up log line. */
export interface TracingStarted {
  serviceName: string;
  /** The OTLP endpoint (its origin and path, never credentials), or `in-memory` under tests. */
  target: string;
  sampler: string;
}

let on = false;
let provider: NodeTracerProvider | undefined;
let current: Tracer | undefined;

/**
 * Whether tracing is on: the one check every traced place makes first. Off, nothing else runs:
 * no span, no context, no traceparent stored or published.
 */
export function isTracing(): boolean {
  return on;
}

/** The service's tracer; only call it when isTracing(). */
export function tracer(): Tracer {
  return current!;
}

/** The endpoint spans are exported to, or undefined when none is configured (tracing stays off). */
export function otlpEndpoint(env: TracingEnv): string | undefined {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

/**
 * Turns tracing on, once per process, when an OTLP endpoint is configured (or a test gives an
 * exporter): registers a NodeTracerProvider (AsyncLocalStorage context, W3C trace context) as
 * OpenTelemetry's global one. Answers what it started, or undefined when tracing stays off or was
 * already on (an earlier app in the same process owns it).
 */
export function startTracing({ env = process.env, exporter, logger }: TracingOptions = {}): TracingStarted | undefined {
  if (on) return undefined;
  const endpoint = otlpEndpoint(env);
  if (!exporter && (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true')) return undefined;
  if (logger) diag.setLogger(quiet(logger), DiagLogLevel.WARN);
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = loadResources();
  const { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor } = loadSdk();
  const { ATTR_SERVICE_NAME } = loadConventions();
  const { W3CTraceContextPropagator } = loadCore();
  const { OTLPTraceExporter } = loadExporter();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, as the SDK defines them.
    .merge(detectResources({ detectors: [envDetector] }));
  provider = new NodeTracerProvider({
    resource,
    // The sampler is the SDK's default: OTEL_TRACES_SAMPLER (and _ARG), else parent-based always-on.
    spanProcessors: [
      exporter
        ? new SimpleSpanProcessor(exporter)
        : // OTLP/HTTP with JSON bodies; OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT… are the exporter's own.
          new BatchSpanProcessor(new OTLPTraceExporter()),
    ],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  current = provider.getTracer(TRACER_NAME);
  on = true;
  return {
    serviceName: String(resource.attributes[ATTR_SERVICE_NAME] ?? DEFAULT_SERVICE_NAME),
    target: exporter ? 'in-memory' : describeEndpoint(endpoint!),
    sampler: env.OTEL_TRACES_SAMPLER || 'parentbased_always_on',
  };
}

/** Exports what is left, then unregisters everything startTracing registered. */
export async function stopTracing(): Promise<void> {
  if (!on) return;
  on = false;
  const stopping = provider;
  provider = undefined;
  current = undefined;
  try {
    await stopping?.shutdown();
  } finally {
    trace.disable();
    context.disable();
    propagation.disable();
    diag.disable();
  }
}

/** The endpoint without credentials or query (an API key may sit there). */
function describeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'an unparsable OTEL_EXPORTER_OTLP_ENDPOINT';
  }
}

function quiet(logger: Pick<DiagLogger, 'warn' | 'error'>): DiagLogger {
  const nothing = () => undefined;
  return {
    error: (message, ...args) => logger.error(message, ...args),
    warn: (message, ...args) => logger.warn(message, ...args),
    info: nothing,
    debug: nothing,
    verbose: nothing,
  };
}
