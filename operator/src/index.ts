export * from './controller/types.js';
export { WorkQueue, backoffDelay, type BackoffOptions, type WorkQueueOptions } from './controller/queue.js';
export { METRIC, createOperatorMetrics, type OperatorMetrics, type MetricSources } from './metrics.js';
export { Controller, countByPhase, type ControllerOptions } from './controller/controller.js';
export {
  Informers,
  KindInformer,
  WATCHED_KINDS,
  clusterKeyOf,
  collectionPath,
  labelSelectorOf,
  matchesLabels,
  restartDelay,
  type KindSpec,
} from './controller/informers.js';
export {
  LeaderElector,
  decideLease,
  holderIdentity,
  leaseRecordFor,
  releasedRecord,
  type LeaseDecision,
  type LeaseRecord,
} from './controller/leader.js';
export { EventSeries, KubeEventRecorder, REPORTING_CONTROLLER } from './events.js';
export { OPERATOR_ENV, loadOperatorConfig, operatorConfigSchema, type OperatorConfig } from './config.js';
export { LOG } from './log-fields.js';
export { NODE_ENV, NODE_FLAGS } from './node-flags.js';

/** The operator as one file (scripts/bundle.mjs): what the image, the cluster tests and the benchmark run. */
export const OPERATOR_BUNDLE = new URL('../dist/bundle/dsm-operator.mjs', import.meta.url).pathname;
