import { context, ROOT_CONTEXT, trace, type Context, type SpanContext } from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';

/** OpenTelemetry's core, loaded on first use: only traced places use it, and only with tracing on. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- on demand (see tracing.ts)
export const loadCore = () => require('@opentelemetry/core') as typeof import('@opentelemetry/core');

/** A span's context as W3C Trace Context carries it: in HTTP headers, AMQP headers, the CloudEvents extension. */
export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
}

// W3C Trace Context whatever else may be registered: this is the format rows and messages store.
let propagator: W3CTraceContextPropagator | undefined;
const w3c = (): W3CTraceContextPropagator => (propagator ??= new (loadCore().W3CTraceContextPropagator)());

const carrierGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
  },
};

/** The traceparent/tracestate of the span active in `ctx` (the current one by default); {} for none. */
export function traceHeaders(ctx: Context = context.active()): TraceHeaders {
  const headers: TraceHeaders = {};
  w3c().inject(ctx, headers, {
    set: (carrier: TraceHeaders, key: string, value: string) => {
      if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
    },
  });
  return headers;
}

/** The W3C traceparent of the current span, or null when there is none. */
export function activeTraceparent(): string | null {
  return traceHeaders().traceparent ?? null;
}

/**
 * The context a stored or received traceparent (and tracestate) describes: a span started in it
 * is that span's child. An absent or malformed traceparent gives the root context: a new trace.
 */
export function contextFrom(carrier: Record<string, unknown> | TraceHeaders | null | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  return w3c().extract(ROOT_CONTEXT, carrier, carrierGetter);
}

/** Shorthand: the context of a stored traceparent (null: a new trace). */
export function contextOfTraceparent(traceparent: string | null | undefined): Context {
  return traceparent ? contextFrom({ traceparent }) : ROOT_CONTEXT;
}

/** The span context a traceparent describes, for a link; undefined when absent or malformed. */
export function spanContextOf(traceparent: string | null | undefined): SpanContext | undefined {
  return trace.getSpanContext(contextOfTraceparent(traceparent));
}
