import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { contextFrom, contextOfTraceparent, spanContextOf, traceHeaders } from './trace-context';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context helpers', () => {
  it('should read a traceparent and tracestate from headers and write them back', () => {
    const ctx = contextFrom({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(trace.getSpanContext(ctx)).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(traceHeaders(ctx)).toEqual({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
  });

  it('should give a new trace (the root context) for no, or a malformed, traceparent', () => {
    expect(contextOfTraceparent(null)).toBe(ROOT_CONTEXT);
    expect(trace.getSpanContext(contextOfTraceparent('00-nothex-00f067aa0ba902b7-01'))).toBeUndefined();
    expect(spanContextOf(undefined)).toBeUndefined();
    expect(contextFrom(null)).toBe(ROOT_CONTEXT);
  });

  it('should answer no headers when no span is active', () => {
    expect(context.with(ROOT_CONTEXT, () => traceHeaders())).toEqual({});
  });
});
