/** The core node's metrics, with the names the DSM dashboard queries (architecture.md). */
import { Counter, Gauge, Histogram, type Registry } from '@dsm/runtime';
import type { PolicyCache } from '@dsm/protocol';

export function coreMetrics(registry: Registry, cache: PolicyCache<unknown>) {
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
  return {
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
