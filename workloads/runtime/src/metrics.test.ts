import { describe, expect, it } from '@jest/globals';
import { HTTP_REQUEST_DURATION, createMetricsRegistry, httpRequestDuration } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('includes the default process metrics unless turned off', async () => {
    expect(await createMetricsRegistry().metrics()).toContain('process_cpu_user_seconds_total');
    expect(await createMetricsRegistry({ defaultMetrics: false }).metrics()).toBe('\n');
  });

  it('gives each registry its own series', async () => {
    const a = createMetricsRegistry({ defaultMetrics: false });
    const b = createMetricsRegistry({ defaultMetrics: false });
    httpRequestDuration(a).observe({ service: 's', method: 'GET', route: '/x', status: '200' }, 0.01);
    expect(await a.metrics()).toContain(HTTP_REQUEST_DURATION);
    expect(await b.metrics()).not.toContain(HTTP_REQUEST_DURATION);
  });
});

describe('httpRequestDuration', () => {
  it('is one histogram per registry, labelled service/method/route/status', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const histogram = httpRequestDuration(registry);
    expect(httpRequestDuration(registry)).toBe(histogram);
    histogram.observe({ service: 'dsm-core', method: 'POST', route: '/states', status: '201' }, 0.03);
    const text = await registry.metrics();
    expect(text).toContain(
      'dsm_http_request_duration_seconds_bucket{le="0.05",service="dsm-core",method="POST",route="/states",status="201"} 1',
    );
    expect(text).toContain(
      'dsm_http_request_duration_seconds_bucket{le="0.025",service="dsm-core",method="POST",route="/states",status="201"} 0',
    );
  });
});
