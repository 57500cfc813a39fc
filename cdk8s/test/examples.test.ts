// Every example is a valid DSMCluster and makes the objects its comment promises.
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { desiredObjects, dsmClusterSpecSchema, generatedSecrets } from '@dsm/cdk8s';
import { ALL_CAPABILITIES, counterRandom, EXAMPLES, exampleCluster, exampleText } from './helpers.js';

const list = (example: (typeof EXAMPLES)[number]) =>
  desiredObjects(exampleCluster(example), {
    capabilities: ALL_CAPABILITIES,
    operatorNamespace: 'dsm-system',
  }).map((o) => `${o.kind}/${o.metadata.name}`);

describe('examples/', () => {
  it.each(EXAMPLES)('%s parses through dsmClusterSpecSchema', (example) => {
    const document = parse(exampleText(example)) as { apiVersion: string; kind: string; spec: unknown };
    expect(document.apiVersion).toBe('dsm.io/v1alpha1');
    expect(document.kind).toBe('DSMCluster');
    expect(dsmClusterSpecSchema.safeParse(document.spec).error?.issues ?? []).toEqual([]);
  });

  it('dsmcluster.yaml is devnet: 1 core, 2 storage, replication factor 2, no bridge', () => {
    const { metadata, spec } = exampleCluster('dsmcluster');
    expect(metadata.name).toBe('devnet');
    expect([spec.core.replicas, spec.storage.replicas, spec.storage.replicationFactor]).toEqual([1, 2, 2]);
    expect(spec.bridge.enabled).toBe(false);
    expect(list('dsmcluster')).toEqual([
      'ConfigMap/devnet-storage-config',
      'ConfigMap/devnet-core-config',
      'Service/devnet-storage-headless',
      'Service/devnet-storage',
      'Service/devnet-core-headless',
      'Service/devnet-core',
      'StatefulSet/devnet-storage',
      'StatefulSet/devnet-core',
      'PodDisruptionBudget/devnet-storage',
      'NetworkPolicy/devnet-storage',
      'NetworkPolicy/devnet-core',
      'ServiceMonitor/devnet-storage',
      'ServiceMonitor/devnet-core',
      'PrometheusRule/devnet-alerts',
      'ConfigMap/devnet-dashboards',
    ]);
  });

  it('dsmcluster-bridge.yaml runs the bridge with the user’s Secrets: only the peer token is generated', () => {
    const cluster = exampleCluster('dsmcluster-bridge');
    expect(cluster.spec.bridge.enabled).toBe(true);
    expect(list('dsmcluster-bridge')).toEqual([
      'ConfigMap/bridged-storage-config',
      'ConfigMap/bridged-core-config',
      'ConfigMap/bridged-bridge-config',
      'Service/bridged-storage-headless',
      'Service/bridged-storage',
      'Service/bridged-core-headless',
      'Service/bridged-core',
      'Service/bridged-bridge',
      'StatefulSet/bridged-storage',
      'StatefulSet/bridged-core',
      'PersistentVolumeClaim/bridged-bridge-data',
      'Deployment/bridged-bridge',
      'PodDisruptionBudget/bridged-storage',
      'NetworkPolicy/bridged-storage',
      'NetworkPolicy/bridged-core',
      'NetworkPolicy/bridged-bridge',
      'ServiceMonitor/bridged-storage',
      'ServiceMonitor/bridged-core',
      'ServiceMonitor/bridged-bridge',
      'PrometheusRule/bridged-alerts',
      'ConfigMap/bridged-dashboards',
    ]);
    expect(generatedSecrets(cluster, counterRandom()).map((s) => s.metadata.name)).toEqual([
      'bridged-peer-token',
    ]);
  });

  it('dsmcluster-production.yaml: 3 storage, 2 core, budgets for both', () => {
    const { spec } = exampleCluster('dsmcluster-production');
    expect([spec.core.replicas, spec.storage.replicas]).toEqual([2, 3]);
    expect(spec.storage.volume).toEqual({
      size: '200Gi',
      storageClassName: 'fast-ssd',
      reclaimPolicy: 'Retain',
    });
    expect(list('dsmcluster-production')).toEqual([
      'ConfigMap/production-storage-config',
      'ConfigMap/production-core-config',
      'Service/production-storage-headless',
      'Service/production-storage',
      'Service/production-core-headless',
      'Service/production-core',
      'StatefulSet/production-storage',
      'StatefulSet/production-core',
      'PodDisruptionBudget/production-storage',
      'PodDisruptionBudget/production-core',
      'NetworkPolicy/production-storage',
      'NetworkPolicy/production-core',
      'ServiceMonitor/production-storage',
      'ServiceMonitor/production-core',
      'PrometheusRule/production-alerts',
      'ConfigMap/production-dashboards',
      'CronJob/production-backup',
    ]);
  });

  it('without the Prometheus operator CRDs there is no ServiceMonitor and no PrometheusRule', () => {
    const kinds = desiredObjects(exampleCluster('dsmcluster'), {
      capabilities: { serviceMonitor: false, prometheusRule: false },
    }).map((o) => o.kind);
    expect(kinds).not.toContain('ServiceMonitor');
    expect(kinds).not.toContain('PrometheusRule');
    expect(kinds).toContain('ConfigMap');
  });
});
