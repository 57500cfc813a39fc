/**
 * One prom-client Registry per service (never the global one, so tests and several apps in one
 * process do not share series). Our own metric names start with `dsm_`; Node's default metrics
 * keep their standard names so stock dashboards work.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Process and Node.js runtime metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

export function createMetricsRegistry(options: MetricsOptions = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

export const HTTP_REQUEST_DURATION = 'dsm_http_request_duration_seconds';
export type HttpDurationLabels = 'service' | 'method' | 'route' | 'status';

/** Buckets from 5 ms to 10 s: API calls are milliseconds, replication waits can take seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The HTTP request duration histogram of `registry`, created on first use. */
export function httpRequestDuration(registry: Registry): Histogram<HttpDurationLabels> {
  const existing = registry.getSingleMetric(HTTP_REQUEST_DURATION);
  if (existing) return existing as Histogram<HttpDurationLabels>;
  return new Histogram<HttpDurationLabels>({
    name: HTTP_REQUEST_DURATION,
    help: 'Duration of HTTP requests served, by route template (never the raw path) and status code.',
    labelNames: ['service', 'method', 'route', 'status'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
}
