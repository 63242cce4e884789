export { MetricsModule } from './metrics.module';
export { BoundedLabel, Metrics } from './metrics.service';
export type { DispatchOutcome } from './metrics.service';
export { ScrapeCache } from './scrape-cache';
