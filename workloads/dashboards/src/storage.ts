/**
 * DSM Storage: the replicated directory of each storage node (workloads/storage/src/metrics.ts): what it
 * holds, how far behind its peers it is, its writes and what it refused.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RATE, dsmDashboard, finish, labelVariable, row, statPanel, timeSeries } from './panels.js';

/** The storage nodes chosen in the `node` variable. */
const NODE = 'job="dsm-storage", instance=~"$node"';

export function storageDashboard(): Dashboard {
  return finish(
    dsmDashboard(
      'dsm-storage',
      'DSM Storage',
      'Storage nodes: objects and bytes held, replication with their peers, client writes, rejections and fork evidence, backups served.',
    )
      .withVariable(labelVariable('node', 'instance', 'up{job="dsm-storage"}', 'Storage node'))
      .withRow(row('Replication'))
      .withPanel(
        statPanel({
          title: 'Storage nodes up',
          description: 'Whether Prometheus could scrape each storage node (1 up, 0 down).',
          unit: 'short',
          queries: [{ expr: `up{${NODE}}`, legend: '{{instance}}' }],
          mappings: { 0: ['down', 'red'], 1: ['up', 'green'] },
          thresholds: [
            [null, 'red'],
            [1, 'green'],
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Peers answering',
          description:
            'Peers that answered the last replication request, out of the peers each node replicates with. Fewer fires DsmStoragePeerDown.',
          unit: 'short',
          queries: [
            { expr: `dsm_storage_peers_up{${NODE}}`, legend: '{{instance}} up' },
            {
              expr: `count by (instance) (dsm_storage_replication_lag_seconds{${NODE}})`,
              legend: '{{instance}} known',
            },
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Forks detected',
          description:
            'Identities found forked (two successors of one state, with evidence) since each node started. Any value above 0 is a double spend attempt: see the DsmStorageForkDetected runbook.',
          unit: 'short',
          queries: [{ expr: `sum(dsm_storage_forks_total{${NODE}})` }],
          thresholds: [
            [null, 'green'],
            [1, 'red'],
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Bytes held',
          description: 'Bytes of accepted content each node holds.',
          unit: 'bytes',
          queries: [{ expr: `dsm_storage_bytes{${NODE}}`, legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Replication lag',
          description:
            'Seconds since each node was last caught up with each peer (0 when in sync). Above 60 s for 5 minutes fires DsmStorageReplicationLag.',
          unit: 's',
          min: 0,
          queries: [
            {
              expr: `dsm_storage_replication_lag_seconds{${NODE}}`,
              legend: '{{instance}} \u2190 {{peer}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Objects by type',
          description:
            'Objects each node holds, by type (genesis, signed states, tokens, policies, fork evidence).',
          unit: 'short',
          queries: [
            {
              expr: `sum by (instance, type) (dsm_storage_objects{${NODE}})`,
              legend: '{{instance}} {{type}}',
            },
          ],
        }),
      )
      .withRow(row('Writes'))
      .withPanel(
        timeSeries({
          title: 'Client writes by result',
          description:
            'Client writes per second by result: stored, duplicate (already held), rejected, unavailable (replication factor not reached), fork.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (instance, result) (rate(dsm_storage_writes_total{${NODE}}[${RATE}]))`,
              legend: '{{instance}} {{result}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Write acknowledgement time',
          description:
            'From receiving a client write to acknowledging it (verified and on disk on the replication factor of nodes): median and 99th percentile.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (instance, le) (rate(dsm_storage_write_ack_seconds_bucket{${NODE}}[${RATE}])))`,
              legend: '{{instance}} p50',
            },
            {
              expr: `histogram_quantile(0.99, sum by (instance, le) (rate(dsm_storage_write_ack_seconds_bucket{${NODE}}[${RATE}])))`,
              legend: '{{instance}} p99',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Rejections by error code',
          description:
            'Objects refused per second by error code (a bad signature, an unknown predecessor, too large, ...). Clients or peers sending what does not verify.',
          unit: 'ops',
          queries: [
            {
              expr: `sum by (instance, code) (rate(dsm_storage_rejections_total{${NODE}}[${RATE}]))`,
              legend: '{{instance}} {{code}}',
            },
          ],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'HTTP requests by route',
          description:
            'Requests each storage node answered per second, by route and status (replication included).',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (instance, route, status) (rate(dsm_http_request_duration_seconds_count{${NODE}}[${RATE}]))`,
              legend: '{{instance}} {{route}} {{status}}',
            },
          ],
        }),
      )
      .withRow(row('Backups'))
      .withPanel(
        timeSeries({
          title: 'Last backup size',
          description:
            'Bytes of the last backup archive each node served whole (GET /v1/admin/backup, dsm backup create or run). 0 until the first since the node started.',
          unit: 'bytes',
          min: 0,
          queries: [{ expr: `dsm_backup_bytes{${NODE}}`, legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Backups that did not complete',
          description:
            "Backups that broke off in the last hour (a read failed, the client went away): the client got a broken stream, never a short archive. The operator's DsmBackupTooOld says when no backup succeeded for too long.",
          unit: 'short',
          min: 0,
          queries: [{ expr: `increase(dsm_backup_failures_total{${NODE}}[1h])`, legend: '{{instance}}' }],
        }),
      )
      .withPanel(
        timeSeries({
          title: 'Backup and restore activity',
          description:
            'How long backups take (p99 over the last hour, by result) and restores attempted in the last hour (restored, or refused: a damaged archive, a node not empty).',
          unit: 's',
          min: 0,
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (instance, result, le) (rate(dsm_backup_duration_seconds_bucket{${NODE}}[1h])))`,
              legend: '{{instance}} backup {{result}} p99',
            },
            {
              expr: `sum by (instance, result) (increase(dsm_restores_total{${NODE}}[1h]))`,
              legend: '{{instance}} restores {{result}}',
            },
          ],
        }),
      )
      .withPanel(
        statPanel({
          title: 'Last backup served',
          description:
            'When each node last served a whole backup archive (since it started; 1970 when none). The scheduled backups of a DSMCluster are on the DSM Operator dashboard.',
          unit: 'dateTimeFromNow',
          queries: [
            { expr: `dsm_backup_last_success_timestamp_seconds{${NODE}} * 1000`, legend: '{{instance}}' },
          ],
          thresholds: [[null, 'green']],
        }),
      ),
  );
}
