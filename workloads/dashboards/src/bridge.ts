/**
 * DSM Bridge: the Ethereum bridge (workloads/bridge/src/metrics.ts): whether it runs and reaches both sides,
 * the supply invariant, what is in flight, how far behind the EVM head it is, and how long each direction
 * takes.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RATE, dsmDashboard, finish, row, statPanel, timeSeries } from './panels.js';

const BRIDGE = 'job="dsm-ethereum-bridge"';

export function bridgeDashboard(): Dashboard {
  return finish(
    dsmDashboard(
      'dsm-bridge',
      'DSM Bridge',
      'The DSM \u21c4 EVM bridge: halt, reachability of both sides, supply invariant, pending deposits and withdrawals, confirmation lag, durations, proofs and gas.',
    )
      .withRow(row('Safety'))
      .withPanel(
        statPanel({
          title: 'Bridge state',
          description:
            'HALTED when the bridge stopped processing after a reorganisation deeper than its confirmation depth: nothing moves until an operator resumes it (DsmBridgeHalted runbook).',
          unit: 'short',
          queries: [{ expr: `dsm_bridge_halted{${BRIDGE}}`, legend: '{{instance}}' }],
          mappings: { 0: ['running', 'green'], 1: ['HALTED', 'red'] },
          thresholds: [
            [null, 'green'],
            [1, 'red'],
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Sides reachable',
          description:
            'Whether the last request to each side succeeded: evm (the Ethereum RPC) and dsm (the core node).',
          unit: 'short',
          queries: [{ expr: `dsm_bridge_up{${BRIDGE}}`, legend: '{{side}}' }],
          mappings: { 0: ['down', 'red'], 1: ['up', 'green'] },
          thresholds: [
            [null, 'red'],
            [1, 'green'],
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Supply invariant gap',
          description:
            'Per token: the bridge\u2019s DSM balance minus the wrapped supply minus amounts in flight. 0 when sound; anything else fires DsmBridgeInvariantGap.',
          unit: 'short',
          queries: [{ expr: `dsm_bridge_invariant_gap{${BRIDGE}}`, legend: '{{token}}' }],
          thresholds: [
            [null, 'red'],
            [0, 'green'],
            [1, 'red'],
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Proof failures',
          description:
            'EVM blocks whose header or receipts did not verify since the bridge started (the bridge did not act on them). Above 0: see DsmBridgeProofFailures.',
          unit: 'short',
          queries: [{ expr: `sum(dsm_bridge_proof_failures_total{${BRIDGE}})` }],
          thresholds: [
            [null, 'green'],
            [1, 'red'],
          ],
        }),
      )
      .withRow(row('Flow'))
      .withPanel(
        timeSeries({
          title: 'Pending',
          description:
            'Deposits (DSM \u2192 EVM) and withdrawals (EVM \u2192 DSM) received and not finished yet.',
          unit: 'short',
          min: 0,
          queries: [{ expr: `dsm_bridge_pending{${BRIDGE}}`, legend: '{{direction}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Confirmation lag',
          description:
            'Blocks between the EVM head and the last block the bridge processed. It stays near DSM_BRIDGE_CONFIRMATION_BLOCKS when healthy; a growing lag means the bridge does not keep up.',
          unit: 'short',
          min: 0,
          queries: [{ expr: `dsm_bridge_confirmation_lag_blocks{${BRIDGE}}`, legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Finished deposits and withdrawals',
          description:
            'Deposits finished per second by result (minted, refunded, rejected) and withdrawals by result (released).',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (result) (rate(dsm_bridge_deposits_total{${BRIDGE}}[${RATE}]))`,
              legend: 'deposit {{result}}',
            },
            {
              expr: `sum by (result) (rate(dsm_bridge_withdrawals_total{${BRIDGE}}[${RATE}]))`,
              legend: 'withdrawal {{result}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Last processed EVM block',
          description:
            'The last EVM block whose burns the bridge has recorded; it should rise with the chain.',
          unit: 'none',
          queries: [{ expr: `dsm_bridge_last_processed_block{${BRIDGE}}`, legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Deposit duration',
          description:
            'From receiving a deposit on DSM to its mint being final (replication and confirmations included): median and 99th percentile.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(dsm_bridge_deposit_duration_seconds_bucket{${BRIDGE}}[${RATE}])))`,
              legend: 'p50',
            },
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(dsm_bridge_deposit_duration_seconds_bucket{${BRIDGE}}[${RATE}])))`,
              legend: 'p99',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Withdrawal duration',
          description:
            'From proving a burn to its release being accepted on DSM: median and 99th percentile.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (le) (rate(dsm_bridge_withdrawal_duration_seconds_bucket{${BRIDGE}}[${RATE}])))`,
              legend: 'p50',
            },
            {
              expr: `histogram_quantile(0.99, sum by (le) (rate(dsm_bridge_withdrawal_duration_seconds_bucket{${BRIDGE}}[${RATE}])))`,
              legend: 'p99',
            },
          ],
        }),
      )
      .withRow(row('Requests and cost'))
      .withPanel(
        timeSeries({
          title: 'RPC errors by side',
          description:
            'Failed requests per second to each side (evm, dsm); 0 when every request succeeded. Sustained errors usually come with a side down.',
          unit: 'ops',
          queries: [
            {
              expr:
                `sum by (side) (rate(dsm_bridge_rpc_errors_total{${BRIDGE}}[${RATE}]))` +
                ` or sum by (side) (dsm_bridge_up{${BRIDGE}}) * 0`,
              legend: '{{side}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Gas spent',
          description:
            'Ether the bridge paid for its EVM transactions (mints, deployments), in total since it started.',
          unit: 'short',
          queries: [{ expr: `dsm_bridge_gas_spent_wei_total{${BRIDGE}} / 1e18`, legend: 'ETH' }],
        }),
      ),
  );
}
