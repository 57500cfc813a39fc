import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DEFAULT_RESTART_BACKOFF,
  WATCHED_KINDS,
  clusterKeyOf,
  collectionPath,
  labelSelectorOf,
  matchesLabels,
  restartDelay,
} from './informers.js';

const spec = (kind: string) => WATCHED_KINDS.find((s) => s.kind === kind)!;

describe('clusterKeyOf', () => {
  it('maps a DSMCluster to itself', () => {
    expect(clusterKeyOf('DSMCluster', { metadata: { name: 'dsm', namespace: 'prod' } })).toEqual({
      namespace: 'prod',
      name: 'dsm',
    });
  });

  it('maps an object owned by a DSMCluster to its owner, whatever its labels say', () => {
    const sts = {
      metadata: {
        name: 'dsm-core',
        namespace: 'prod',
        labels: { 'dsm.io/cluster': 'stale' },
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: '1' },
          { apiVersion: 'dsm.io/v1alpha1', kind: 'DSMCluster', name: 'dsm', uid: '2', controller: true },
        ],
      },
    };
    expect(clusterKeyOf('StatefulSet', sts)).toEqual({ namespace: 'prod', name: 'dsm' });
  });

  it('maps a pod or PVC (owned by a StatefulSet) to the cluster of its label', () => {
    const pod = {
      metadata: {
        name: 'dsm-core-0',
        namespace: 'prod',
        labels: { 'dsm.io/cluster': 'dsm' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'dsm-core', uid: '3' }],
      },
    };
    expect(clusterKeyOf('Pod', pod)).toEqual({ namespace: 'prod', name: 'dsm' });
    expect(clusterKeyOf('PersistentVolumeClaim', pod)).toEqual({ namespace: 'prod', name: 'dsm' });
  });

  it('ignores objects of no cluster, and DSMCluster owners of another API group', () => {
    expect(clusterKeyOf('ConfigMap', { metadata: { name: 'x', namespace: 'prod' } })).toBeUndefined();
    expect(
      clusterKeyOf('ConfigMap', {
        metadata: {
          name: 'x',
          namespace: 'prod',
          ownerReferences: [{ apiVersion: 'other.io/v1', kind: 'DSMCluster', name: 'dsm', uid: '4' }],
        },
      }),
    ).toBeUndefined();
    expect(clusterKeyOf('Pod', { metadata: { labels: { 'dsm.io/cluster': 'dsm' } } })).toBeUndefined();
  });

  it('keeps the object namespace: an owner is always in the same namespace', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        (ns, name) => {
          const key = clusterKeyOf('Service', {
            metadata: { name: 'svc', namespace: ns, labels: { 'dsm.io/cluster': name } },
          });
          expect(key).toEqual({ namespace: ns, name });
        },
      ),
    );
  });
});

describe('informer requests', () => {
  it('lists and watches core, group and custom kinds at their collection paths', () => {
    expect(collectionPath(spec('Pod'), undefined)).toBe('/api/v1/pods');
    expect(collectionPath(spec('StatefulSet'), 'prod')).toBe('/apis/apps/v1/namespaces/prod/statefulsets');
    expect(collectionPath(spec('DSMCluster'), 'prod')).toBe(
      '/apis/dsm.io/v1alpha1/namespaces/prod/dsmclusters',
    );
    expect(collectionPath(spec('ServiceMonitor'), undefined)).toBe(
      '/apis/monitoring.coreos.com/v1/servicemonitors',
    );
  });

  it('selects children by the cluster label (only labelled ConfigMaps are cached), DSMClusters unselected', () => {
    expect(labelSelectorOf(spec('DSMCluster'))).toBeUndefined();
    expect(labelSelectorOf(spec('ConfigMap'))).toBe('dsm.io/cluster');
    expect(WATCHED_KINDS.filter((s) => s.kind !== 'DSMCluster').every((s) => s.clusterLabelled)).toBe(true);
  });

  it('watches no Secret at all: the operator holds no Secret read', () => {
    expect(WATCHED_KINDS.map((s) => s.plural)).not.toContain('secrets');
  });

  it('watches the monitoring kinds only as capabilities', () => {
    expect(WATCHED_KINDS.filter((s) => s.capability).map((s) => s.kind)).toEqual([
      'ServiceMonitor',
      'PrometheusRule',
    ]);
  });
});

describe('matchesLabels', () => {
  it('needs every pair of the selector', () => {
    expect(matchesLabels({ a: '1', b: '2' }, { a: '1' })).toBe(true);
    expect(matchesLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(matchesLabels(undefined, {})).toBe(true);
    expect(matchesLabels(undefined, { a: '1' })).toBe(false);
    expect(matchesLabels({ a: '2' }, undefined)).toBe(true);
  });
});

describe('restartDelay', () => {
  it('grows exponentially, never passes the cap, and jitters down by at most its fraction', () => {
    fc.assert(
      fc.property(
        fc.nat(2000),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const b = DEFAULT_RESTART_BACKOFF;
          const full = Math.min(b.maxMs, b.baseMs * 2 ** attempt);
          const delay = restartDelay(attempt, b, () => r);
          expect(delay).toBeLessThanOrEqual(b.maxMs);
          expect(delay).toBeLessThanOrEqual(full);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(full * (1 - b.jitter)));
        },
      ),
    );
    expect(restartDelay(0, DEFAULT_RESTART_BACKOFF, () => 0)).toBe(500);
    expect(restartDelay(3, DEFAULT_RESTART_BACKOFF, () => 0)).toBe(4000);
    expect(restartDelay(30, DEFAULT_RESTART_BACKOFF, () => 0)).toBe(30_000);
  });
});
