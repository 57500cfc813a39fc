/**
 * The names of the operator's structured log fields, once: every log line of the controller uses these
 * keys, so a query (`cluster="prod/dsm"`) finds all lines about one thing.
 */
export const LOG = {
  /** `namespace/name` of a DSMCluster. */
  cluster: 'cluster',
  kind: 'kind',
  namespace: 'namespace',
  name: 'name',
  /** Which part of the operator wrote the line: controller, informer, leader, events. */
  component: 'component',
  identity: 'identity',
  lease: 'lease',
  durationMs: 'durationMs',
  delayMs: 'delayMs',
  retries: 'retries',
  attempt: 'attempt',
  reason: 'reason',
  err: 'err',
} as const;
