import { metricsAccess } from './metrics.module';

describe(metricsAccess.name, () => {
  it('should say which applies: the token, opened on purpose, or open because nothing is set outside production', () => {
    expect(
      metricsAccess({ NODE_ENV: 'production', METRICS_TOKEN: 'metrics-token-0123456789', METRICS_PUBLIC: false }),
    ).toBe('GET /metrics needs the metrics token (METRICS_TOKEN)');
    expect(metricsAccess({ NODE_ENV: 'production', METRICS_TOKEN: undefined, METRICS_PUBLIC: true })).toBe(
      'GET /metrics is public (METRICS_PUBLIC=true)',
    );
    expect(metricsAccess({ NODE_ENV: 'development', METRICS_TOKEN: undefined, METRICS_PUBLIC: false })).toBe(
      'GET /metrics is public: METRICS_TOKEN is unset (NODE_ENV=development; production needs METRICS_TOKEN or METRICS_PUBLIC=true)',
    );
  });
});
