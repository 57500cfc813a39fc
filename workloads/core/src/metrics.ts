/** The core node's metrics, with the names the DSM dashboard queries (architecture.md). */
import { Counter, Gauge, Histogram, type Registry } from '@dsm/runtime';
import type { PolicyCache } from '@dsm/protocol';
import { FORWARD_OUTCOMES, type ForwardOutcome } from './forwarding.js';

/** What the metrics read from parts made after them. */
export interface MetricSources {
  receiveBacklog?: () => number;
}

export function coreMetrics(registry: Registry, cache: PolicyCache<unknown>, sources: MetricSources = {}) {
  const transitions = new Counter({
    name: 'dsm_state_transitions_total',
    help: 'States accepted by this node',
    registers: [registry],
  });
  const operations = new Counter({
    name: 'dsm_token_operations_total',
    help: 'Accepted token operations by kind',
    labelNames: ['operation'],
    registers: [registry],
  });
  const policy = new Counter({
    name: 'dsm_policy_verification_total',
    help: 'CTPA policy evaluations by result',
    labelNames: ['result'],
    registers: [registry],
  });
  let passed = 0;
  let failed = 0;
  new Gauge({
    name: 'dsm_policy_verification_success_ratio',
    help: 'Share of policy evaluations that passed since start',
    registers: [registry],
    collect() {
      this.set(passed + failed === 0 ? 1 : passed / (passed + failed));
    },
  });
  new Gauge({
    name: 'dsm_policy_cache_size',
    help: 'Verified policies held in the cache',
    registers: [registry],
    collect() {
      this.set(cache.size);
    },
  });
  new Gauge({
    name: 'dsm_policy_cache_hit_ratio',
    help: 'Policy cache hits over lookups since start',
    registers: [registry],
    collect() {
      this.set(cache.hitRatio());
    },
  });
  new Gauge({
    name: 'dsm_receive_backlog',
    help: 'Transfers to hosted identities not received yet, as their inboxes showed at the last look',
    registers: [registry],
    collect() {
      this.set(sources.receiveBacklog?.() ?? 0);
    },
  });
  const forwarded = new Counter({
    name: 'dsm_core_forwarded_requests_total',
    help:
      'Requests for an identity this core node does not host, by outcome: relayed (its node answered), ' +
      'unavailable (503: a node that may host it did not answer), not_found (no core node hosts it)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Every outcome is a series from the start (at 0), so a single node's dashboards show data too.
  for (const outcome of FORWARD_OUTCOMES) forwarded.inc({ outcome }, 0);
  return {
    forwarded(outcome: ForwardOutcome): void {
      forwarded.inc({ outcome });
    },
    transition(kind: string): void {
      transitions.inc();
      if (kind !== 'genesis') operations.inc({ operation: kind.replace('token.', '') });
    },
    policyChecked(kind: string, ok: boolean): void {
      if (kind === 'genesis') return;
      policy.inc({ result: ok ? 'pass' : 'fail' });
      if (ok) passed++;
      else failed++;
    },
    tokens: new Counter({
      name: 'dsm_tokens_total',
      help: 'Tokens created through this node',
      registers: [registry],
    }),
    verification: new Histogram({
      name: 'dsm_verification_duration_milliseconds',
      help: 'Time to verify one state (all checks of §4, policy included)',
      buckets: [0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250],
      registers: [registry],
    }),
  };
}

export type CoreMetrics = ReturnType<typeof coreMetrics>;
