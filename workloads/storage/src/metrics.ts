/** The storage node's metrics, named once here. */
import { Counter, Gauge, Histogram, type Registry } from '@dsm/runtime';
import type { Directory } from './directory.js';
import type { Replicator } from './replicator.js';

export type WriteResult = 'stored' | 'duplicate' | 'rejected' | 'unavailable' | 'fork';

export function storageMetrics(registry: Registry, directory: Directory, replicator: () => Replicator) {
  new Gauge({
    name: 'dsm_storage_objects',
    help: 'Objects held (accepted content and fork evidence), by type',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, count] of Object.entries(directory.stats().byType)) this.set({ type }, count);
    },
  });
  new Gauge({
    name: 'dsm_storage_bytes',
    help: 'Bytes of accepted content held',
    registers: [registry],
    collect() {
      this.set(directory.stats().bytes);
    },
  });
  new Gauge({
    name: 'dsm_storage_replication_lag_seconds',
    help: 'Seconds since this node was last caught up with each peer (0 when in sync)',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const peer of replicator().status()) this.set({ peer: peer.address }, peer.lagSeconds);
    },
  });
  new Gauge({
    name: 'dsm_storage_peers_up',
    help: 'Peers that answered the last replication request',
    registers: [registry],
    collect() {
      this.set(
        replicator()
          .status()
          .filter((p) => p.up).length,
      );
    },
  });
  const forks = new Counter({
    name: 'dsm_storage_forks_total',
    help: 'Identities found forked (double spends with evidence)',
    registers: [registry],
  });
  forks.inc(directory.stats().forks);
  return {
    writes: new Counter({
      name: 'dsm_storage_writes_total',
      help: 'Client writes by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'dsm_storage_rejections_total',
      help: 'Rejected objects by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'dsm_storage_write_ack_seconds',
      help: 'Time from receiving a client write to acknowledging it (verified, replicated to the replication factor)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    forks,
  };
}

export type StorageMetrics = ReturnType<typeof storageMetrics>;
