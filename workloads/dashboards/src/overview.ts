/**
 * DSM Overview: the panels users know from the deployment guide (state transitions, verification time, policy
 * verification, tokens, policy cache, memory, CPU, token operations), then the health of every service.
 * Metric names are the services' own (workloads/core/src/metrics.ts, workloads/runtime/src/metrics.ts and
 * prom-client's default metrics); test/metrics.test.ts fails when one of them no longer exists.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RATE, dsmDashboard, finish, row, statPanel, timeSeries } from './panels.js';

/** Every DSM service's scrape job (compose/prometheus/prometheus.yml). */
const DSM_JOBS = 'job=~"dsm-.+"';

export function overviewDashboard(): Dashboard {
  return finish(
    dsmDashboard(
      'dsm-overview',
      'DSM Overview',
      'State transitions, verification, CTPA policies and tokens of the core node, and the health of every DSM service.',
    )
      .withRow(row('Core node'))
      .withPanel(
        statPanel({
          title: 'Total tokens',
          description:
            'Tokens created through the core node since it started (dsm_tokens_total counts creations this node accepted; it starts again at 0 when the node restarts).',
          unit: 'short',
          queries: [{ expr: 'sum(dsm_tokens_total)' }],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Policy verification success ratio',
          description:
            'Share of CTPA policy evaluations that passed since the core node started. A drop means many operations are refused by their token policy: see the Policy verification rate panel and the DsmPolicyVerificationFailures runbook.',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [{ expr: 'dsm_policy_verification_success_ratio', legend: '{{instance}}' }],
          thresholds: [
            [null, 'red'],
            [0.8, 'orange'],
            [0.95, 'green'],
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Policy cache size',
          description: 'Verified policies held in the core node\u2019s cache (DSM_CACHE_SIZE bounds it).',
          unit: 'short',
          queries: [{ expr: 'dsm_policy_cache_size', legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Policy cache hit ratio',
          description:
            'Policy cache hits over lookups since the core node started. A low ratio with a full cache means the cache is too small for the policies in use (cli config set --policy-cache-size).',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [{ expr: 'dsm_policy_cache_hit_ratio', legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'State transitions rate',
          description: 'States accepted by the core node per second (genesis, token operations, receipts).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (instance) (rate(dsm_state_transitions_total[${RATE}]))`,
              legend: '{{instance}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Verification duration',
          description:
            'Time to verify one state (every check of protocol \u00a74, its policy included): median, 95th and 99th percentile.',
          unit: 'ms',
          queries: (
            [
              [0.5, 'p50'],
              [0.95, 'p95'],
              [0.99, 'p99'],
            ] as const
          ).map(([q, legend]) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(dsm_verification_duration_milliseconds_bucket[${RATE}])))`,
            legend,
          })),
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Policy verification rate',
          description:
            'CTPA policy evaluations per second by result (pass, fail). Failures are operations their token policy refused.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (result) (rate(dsm_policy_verification_total[${RATE}]))`,
              legend: '{{result}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Token operation rate',
          description:
            'Accepted token operations per second by kind (create, transfer, receive, mint, burn, ...).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (operation) (rate(dsm_token_operations_total[${RATE}]))`,
              legend: '{{operation}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Receive backlog',
          description:
            'Transfers to hosted identities that their inboxes showed pending and auto-receive has not received yet. It drains as receives are written; a backlog that stays up means receives are refused or the storage nodes cannot take writes.',
          unit: 'short',
          queries: [{ expr: 'dsm_receive_backlog', legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Forwarded requests',
          description:
            'Requests a core node sent on to the core node hosting their identity (DSM_CORE_PEERS), per second by outcome: relayed (that node answered), unavailable (503: a core node that may host it did not answer), not_found (no core node hosts it). Always 0 for a single core node.',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (outcome) (rate(dsm_core_forwarded_requests_total[${RATE}]))`,
              legend: '{{outcome}}',
            },
          ],
        }),
      )
      .withRow(row('Services'))
      .withPanel(
        statPanel({
          title: 'Services up',
          description:
            'Whether Prometheus could scrape each DSM service (1 up, 0 down). A 0 fires the matching *Down alert.',
          unit: 'short',
          span: 24,
          queries: [{ expr: `up{${DSM_JOBS}}`, legend: '{{instance}}' }],
          mappings: { 0: ['down', 'red'], 1: ['up', 'green'] },
          thresholds: [
            [null, 'red'],
            [1, 'green'],
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Memory',
          description:
            'Resident memory of each DSM process, and the V8 heap in use. A heap that only grows points at a leak; compare with the container limit.',
          unit: 'bytes',
          queries: [
            { expr: `process_resident_memory_bytes{${DSM_JOBS}}`, legend: '{{instance}} resident' },
            { expr: `nodejs_heap_size_used_bytes{${DSM_JOBS}}`, legend: '{{instance}} heap used' },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'CPU',
          description: 'CPU time each DSM process uses per second (1 = one core busy).',
          unit: 'short',
          queries: [
            {
              expr: `rate(process_cpu_seconds_total{${DSM_JOBS}}[${RATE}])`,
              legend: '{{instance}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'HTTP requests by status',
          description: 'Requests each service answered per second, by status code.',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (service, status) (rate(dsm_http_request_duration_seconds_count[${RATE}]))`,
              legend: '{{service}} {{status}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'HTTP 5xx ratio',
          description:
            'Share of requests answered with a 5xx status, per service (0 when none failed). Above 5% for 10 minutes fires DsmHighErrorRate.',
          unit: 'percentunit',
          min: 0,
          queries: [
            {
              expr:
                `(sum by (service) (rate(dsm_http_request_duration_seconds_count{status=~"5.."}[${RATE}]))` +
                ` or sum by (service) (rate(dsm_http_request_duration_seconds_count[${RATE}])) * 0)` +
                ` / sum by (service) (rate(dsm_http_request_duration_seconds_count[${RATE}]))`,
              legend: '{{service}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'HTTP p99 latency',
          description:
            '99th percentile of the time to answer a request, per service. Storage writes include replication to the replication factor.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (service, le) (rate(dsm_http_request_duration_seconds_bucket[${RATE}])))`,
              legend: '{{service}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Event loop lag p99',
          description:
            '99th percentile of Node.js event loop delay per process: above tens of milliseconds every request waits.',
          unit: 's',
          queries: [{ expr: `nodejs_eventloop_lag_p99_seconds{${DSM_JOBS}}`, legend: '{{instance}}' }],
        }),
      ),
  );
}
