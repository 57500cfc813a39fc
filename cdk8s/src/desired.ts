/**
 * The Kubernetes objects of a DSMCluster, as a pure function of the cluster (and of what the operator
 * tells about the apiserver and the roll in progress): no clock, no randomness, no I/O, the same order
 * every time. The operator applies them with server-side apply and prunes what is no longer listed;
 * `npm run synth` writes them as static manifests.
 */
import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { DSMCluster } from './api/cluster.js';
import { clusterNameProblem, PORT_NAMES, PORTS, SECRET_KEYS } from './api/names.js';
import { contextOf, secretRefs, type ClusterContext, type DesiredOptions } from './context.js';
import { AlertRules } from './constructs/alert-rules.js';
import { BackupCronJob } from './constructs/backup-cron-job.js';
import { BridgeDeployment } from './constructs/bridge-deployment.js';
import { BridgeVolume } from './constructs/bridge-volume.js';
import { ClientService } from './constructs/client-service.js';
import { ComponentConfig } from './constructs/component-config.js';
import { CoreStatefulSet } from './constructs/core-stateful-set.js';
import { Dashboards } from './constructs/dashboards.js';
import { DisruptionBudget } from './constructs/disruption-budget.js';
import { GeneratedSecret } from './constructs/generated-secret.js';
import { HeadlessService } from './constructs/headless-service.js';
import { IngressPolicy, type Peer } from './constructs/ingress-policy.js';
import { ServiceMonitor } from './constructs/service-monitor.js';
import { StorageStatefulSet } from './constructs/storage-stateful-set.js';
import type { KubeObject } from './kube-object.js';
import { bridgeSettings, coreSettings, storageSettings, TOPOLOGY_KEYS } from './settings.js';

export type { KubeObject, OwnerReference } from './kube-object.js';
export type { DesiredOptions, SecretRefs } from './context.js';
export { secretRefs };

/** cdk8s renders the objects; nothing is synthesized to disk (the app's outdir is never written). */
function render(ctx: ClusterContext, build: (chart: Construct) => void): KubeObject[] {
  const app = new App({ outdir: 'dist', recordConstructMetadata: false });
  const chart = new Chart(app, ctx.name, { namespace: ctx.namespace, disableResourceNameHashes: true });
  build(chart);
  return chart.toJson() as KubeObject[];
}

function contextFor(cluster: DSMCluster, options: DesiredOptions): ClusterContext {
  const problem = clusterNameProblem(cluster.metadata.name);
  if (problem !== undefined) throw new Error(problem);
  return contextOf(cluster, options);
}

/** Storage: only the cluster's own pods (and the operator, and the scrapers) reach it. */
function storageIngress(ctx: ClusterContext): Peer[] {
  return [
    { component: 'core' },
    ...(ctx.spec.bridge.enabled ? [{ component: 'bridge' } as const] : []),
    { component: 'storage' },
    ...backupPeer(ctx),
    ...operatorPeer(ctx),
    ...metricsPeers(ctx),
  ];
}

/** The backup pods read every component's backup route. */
const backupPeer = (ctx: ClusterContext): Peer[] =>
  ctx.spec.backup === undefined ? [] : [{ component: 'backup' }];

/** The APIs: the namespace's pods and the namespaces the user lets in. */
function apiPeers(ctx: ClusterContext): Peer[] {
  return [
    { namespacePods: true },
    ...ctx.spec.networkPolicies.allowFrom.map((namespaceLabels) => ({ namespaceLabels })),
    ...operatorPeer(ctx),
  ];
}

const operatorPeer = (ctx: ClusterContext): Peer[] =>
  ctx.options.operatorNamespace === undefined
    ? []
    : [{ namespaceLabels: { 'kubernetes.io/metadata.name': ctx.options.operatorNamespace } }];
const metricsPeers = (ctx: ClusterContext): Peer[] =>
  ctx.spec.networkPolicies.metricsFrom.map((namespaceLabels) => ({ namespaceLabels }));

export function desiredObjects(cluster: DSMCluster, options: DesiredOptions): KubeObject[] {
  const ctx = contextFor(cluster, options);
  const { spec } = ctx;
  const bridge = spec.bridge.enabled;
  return render(ctx, (chart) => {
    const context = ctx;
    const storageConfig = new ComponentConfig(chart, 'StorageConfig', {
      context,
      component: 'storage',
      settings: storageSettings(ctx),
      undigested: TOPOLOGY_KEYS.storage,
    });
    const coreConfig = new ComponentConfig(chart, 'CoreConfig', {
      context,
      component: 'core',
      settings: coreSettings(ctx),
      undigested: TOPOLOGY_KEYS.core,
    });
    const bridgeConfig = bridge
      ? new ComponentConfig(chart, 'BridgeConfig', {
          context,
          component: 'bridge',
          settings: bridgeSettings(ctx),
        })
      : undefined;

    const storagePorts = [{ name: PORT_NAMES.storage, port: PORTS.storage }];
    const corePorts = [
      { name: PORT_NAMES.coreApi, port: PORTS.coreApi },
      { name: PORT_NAMES.coreP2p, port: PORTS.coreP2p },
    ];
    new HeadlessService(chart, 'StorageHeadless', { context, component: 'storage', ports: storagePorts });
    new ClientService(chart, 'StorageService', { context, component: 'storage', ports: storagePorts });
    new HeadlessService(chart, 'CoreHeadless', { context, component: 'core', ports: corePorts });
    new ClientService(chart, 'CoreService', { context, component: 'core', ports: corePorts });
    if (bridge) {
      new ClientService(chart, 'BridgeService', {
        context,
        component: 'bridge',
        ports: [{ name: PORT_NAMES.bridge, port: PORTS.bridge }],
      });
    }

    new StorageStatefulSet(chart, 'Storage', {
      context,
      configMap: storageConfig.name,
      configDigest: storageConfig.digest,
    });
    new CoreStatefulSet(chart, 'Core', {
      context,
      configMap: coreConfig.name,
      configDigest: coreConfig.digest,
    });
    if (bridgeConfig !== undefined) {
      const volume = new BridgeVolume(chart, 'BridgeVolume', { context });
      new BridgeDeployment(chart, 'Bridge', {
        context,
        configMap: bridgeConfig.name,
        configDigest: bridgeConfig.digest,
        claim: volume.name,
      });
    }

    // A drain may take one storage node, but never below replicationFactor nodes: writes need that many.
    const rf = spec.storage.replicationFactor;
    new DisruptionBudget(
      chart,
      'StorageBudget',
      ctx.storageReplicas - 1 >= rf
        ? { context, component: 'storage', maxUnavailable: 1 }
        : { context, component: 'storage', minAvailable: rf },
    );
    if (spec.core.replicas > 1) {
      new DisruptionBudget(chart, 'CoreBudget', { context, component: 'core', maxUnavailable: 1 });
    }

    if (spec.networkPolicies.enabled) {
      new IngressPolicy(chart, 'StoragePolicy', {
        context,
        component: 'storage',
        rules: [{ ports: [PORT_NAMES.storage], from: storageIngress(ctx) }],
      });
      new IngressPolicy(chart, 'CorePolicy', {
        context,
        component: 'core',
        rules: [
          { ports: [PORT_NAMES.coreApi], from: apiPeers(ctx) },
          // Node-to-node, admin and /metrics: storage notifications, forwarding between core pods.
          {
            ports: [PORT_NAMES.coreP2p],
            from: [
              { component: 'storage' },
              { component: 'core' },
              ...backupPeer(ctx),
              ...operatorPeer(ctx),
              ...metricsPeers(ctx),
            ],
          },
        ],
      });
      if (bridge) {
        new IngressPolicy(chart, 'BridgePolicy', {
          context,
          component: 'bridge',
          rules: [{ ports: [PORT_NAMES.bridge], from: [...apiPeers(ctx), ...metricsPeers(ctx)] }],
        });
      }
    }

    const { monitoring } = spec;
    if (monitoring.serviceMonitor.enabled && options.capabilities.serviceMonitor) {
      new ServiceMonitor(chart, 'StorageMonitor', {
        context,
        component: 'storage',
        port: PORT_NAMES.storage,
      });
      new ServiceMonitor(chart, 'CoreMonitor', { context, component: 'core', port: PORT_NAMES.coreP2p });
      if (bridge)
        new ServiceMonitor(chart, 'BridgeMonitor', { context, component: 'bridge', port: PORT_NAMES.bridge });
    }
    if (monitoring.prometheusRule.enabled && options.capabilities.prometheusRule) {
      new AlertRules(chart, 'Alerts', { context });
    }
    if (monitoring.dashboards.enabled) new Dashboards(chart, 'Dashboards', { context });
    if (spec.backup !== undefined) new BackupCronJob(chart, 'Backup', { context, backup: spec.backup });
  });
}

/** Bytes of randomness of every generated secret (as 64 hex characters: the bridge key's seed form too). */
const SECRET_BYTES = 32;

/** Values of generated Secrets that are not random but derived by the caller (the operator). */
export interface DerivedSecrets {
  /**
   * The storage peer token: the operator derives it from its own key and the cluster's uid, so it can
   * authorise peer changes without reading any Secret. Default: random, like the others (static manifests).
   */
  readonly peerToken?: string;
}

/**
 * The Secrets the user did not name, with fresh random values or the derived ones given (the operator
 * creates each once, never updates it).
 */
export function generatedSecrets(
  cluster: DSMCluster,
  random: (bytes: number) => Buffer,
  derived: DerivedSecrets = {},
): KubeObject[] {
  const ctx = contextFor(cluster, { capabilities: { serviceMonitor: false, prometheusRule: false } });
  const { spec, names: n } = ctx;
  const value = () => random(SECRET_BYTES).toString('hex');
  return render(ctx, (chart) => {
    const context = ctx;
    if (spec.secrets.adminToken === undefined) {
      new GeneratedSecret(chart, 'AdminToken', {
        context,
        name: n.adminToken,
        key: SECRET_KEYS.adminToken,
        value: value(),
        component: 'cluster',
      });
    }
    if (spec.secrets.apiToken === undefined) {
      new GeneratedSecret(chart, 'ApiToken', {
        context,
        name: n.apiToken,
        key: SECRET_KEYS.apiToken,
        value: value(),
        component: 'core',
      });
    }
    if (spec.secrets.keystoreKey === undefined) {
      // Retained core volumes hold a keystore only this key opens: the key stays with them.
      new GeneratedSecret(chart, 'KeystoreKey', {
        context,
        name: n.keystoreKey,
        key: SECRET_KEYS.keystoreKey,
        value: value(),
        component: 'core',
        owned: spec.core.volume.reclaimPolicy === 'Delete',
        immutable: true,
      });
    }
    new GeneratedSecret(chart, 'PeerToken', {
      context,
      name: n.peerToken,
      key: SECRET_KEYS.peerToken,
      value: derived.peerToken ?? value(),
      component: 'storage',
    });
    if (spec.bridge.enabled && spec.bridge.dsmKeySecret === undefined) {
      // The bridge's DSM identity owns what its retained journal records.
      new GeneratedSecret(chart, 'BridgeDsmKey', {
        context,
        name: n.bridgeDsmKey,
        key: SECRET_KEYS.bridgeDsmKey,
        value: value(),
        component: 'bridge',
        owned: spec.bridge.volume.reclaimPolicy === 'Delete',
        immutable: true,
      });
    }
  });
}
