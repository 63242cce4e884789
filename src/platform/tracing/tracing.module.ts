import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import { startTracing, stopTracing, type TracingStarted } from './tracing';

/**
 * Tests provide an exporter here (`overrideProvider(TRACE_EXPORTER).useValue(new InMemorySpanExporter())`)
 * to run the app with tracing on and read its spans; null in production (OTLP, if configured).
 */
export const TRACE_EXPORTER = Symbol('TRACE_EXPORTER');

/**
 * Starts tracing as soon as the app's providers are built, before the HTTP routes are installed
 * (the receive route traces itself only when tracing is on at that point), and exports the last
 * spans at shutdown.
 */
@Injectable()
export class Tracing implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');
  private readonly started?: TracingStarted;

  constructor(@Inject(TRACE_EXPORTER) exporter: SpanExporter | null) {
    this.started = startTracing({
      exporter: exporter ?? undefined,
      logger: { warn: (message) => this.logger.warn(message), error: (message) => this.logger.error(message) },
    });
  }

  onModuleInit(): void {
    if (!this.started) return;
    const { serviceName, target, sampler } = this.started;
    this.logger.log({ serviceName, sampler }, `Tracing on: spans of ${serviceName} go to ${target}`);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.started) await stopTracing();
  }
}

/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (docs/operations.md#tracing). Imported by the stages
 * that trace; global, so it is started once whoever imports it.
 */
@Global()
@Module({
  providers: [{ provide: TRACE_EXPORTER, useValue: null }, Tracing],
})
export class TracingModule {}
