import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { toPrune } from './prune.js';

const owner = {
  apiVersion: 'dsm.io/v1alpha1',
  kind: 'DSMCluster',
  name: 'demo',
  uid: 'u1',
  controller: true,
};
const obj = (
  kind: string,
  name: string,
  extra: Partial<NonNullable<KubernetesObject['metadata']>> = {},
): KubernetesObject => ({
  apiVersion: 'v1',
  kind,
  metadata: {
    name,
    namespace: 'ns',
    labels: { 'dsm.io/cluster': 'demo' },
    ownerReferences: [owner],
    ...extra,
  },
});

describe('toPrune', () => {
  it('deletes owned objects of our kinds that are no longer desired', () => {
    const live = [
      obj('Service', 'demo-core'),
      obj('ServiceMonitor', 'demo'),
      obj('Deployment', 'demo-bridge'),
    ];
    expect(
      toPrune(live, [obj('Service', 'demo-core')], 'u1').map((o) => `${o.kind}/${o.metadata?.name}`),
    ).toEqual(['ServiceMonitor/demo', 'Deployment/demo-bridge']);
  });

  it('keeps what another cluster (same name, older uid) or nobody controls', () => {
    const live = [
      obj('ConfigMap', 'a', { ownerReferences: [{ ...owner, uid: 'old' }] }),
      obj('ConfigMap', 'b', { ownerReferences: [{ ...owner, controller: false }] }),
      obj('ConfigMap', 'c', { ownerReferences: [] }),
    ];
    expect(toPrune(live, [], 'u1')).toEqual([]);
  });

  it('never PVCs, Secrets, Pods, retained or generated objects, or objects already going', () => {
    const live = [
      obj('PersistentVolumeClaim', 'data-demo-storage-0'),
      obj('Secret', 'demo-admin-token'),
      obj('Pod', 'demo-core-0'),
      obj('ConfigMap', 'kept', { annotations: { 'dsm.io/reclaim-policy': 'Retain' } }),
      obj('ConfigMap', 'gen', { annotations: { 'dsm.io/generated': 'true' } }),
      obj('ConfigMap', 'going', { deletionTimestamp: new Date() }),
    ];
    expect(toPrune(live, [], 'u1')).toEqual([]);
  });

  it('matches desired objects by kind, namespace and name', () => {
    expect(toPrune([obj('ConfigMap', 'demo-core')], [obj('Service', 'demo-core')], 'u1')).toHaveLength(1);
  });
});
