export { MetricsModule } from './metrics.module';
export { BoundedLabel, Metrics } from './metrics.service';
export { ScrapeCache } from './scrape-cache';
