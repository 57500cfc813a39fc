export * from './controller/types.js';
export { WorkQueue, backoffDelay, type BackoffOptions, type WorkQueueOptions } from './controller/queue.js';
export { METRIC, createOperatorMetrics, type OperatorMetrics, type MetricSources } from './metrics.js';
