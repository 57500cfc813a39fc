/**
 * What every construct of one cluster needs, resolved once from the DSMCluster and the operator's options:
 * the names, the labels and owner reference every object carries, the Secrets the pods mount, the version
 * each component runs now. Pure: the same cluster and options give the same context.
 */
import type { DSMCluster } from './api/cluster.js';
import {
  API_VERSION,
  KIND,
  LABELS,
  MANAGED_BY,
  PART_OF,
  SECRET_KEYS,
  names,
  type Component,
  type ComponentLabel,
} from './api/names.js';
import type { DSMClusterSpec, SecretKeyRef } from './api/spec.js';
import type { OwnerReference } from './kube-object.js';

export interface DesiredOptions {
  /** CRDs present in the cluster: ServiceMonitor / PrometheusRule are desired only when they exist. */
  capabilities: { serviceMonitor: boolean; prometheusRule: boolean };
  /** The image tag each component runs now (the operator's ordered roll); default spec.version for all. */
  versions?: { core: string; storage: string; bridge: string };
  /**
   * The operator's namespace: its probes and admin calls may reach every pod through the NetworkPolicies.
   * Unset (static manifests): no such exception.
   */
  operatorNamespace?: string;
  /**
   * Storage nodes to run now, when the operator scales down one node at a time (each drained to
   * replicationFactor other nodes first); default spec.storage.replicas.
   */
  storageReplicas?: number;
  /**
   * Which peer-token Secret the storage pods read (the operator passes the uid of the one it created):
   * a new value rolls them onto a recreated Secret. Unset: no such annotation.
   */
  peerTokenRevision?: string;
}

export interface SecretRefs {
  adminToken: SecretKeyRef;
  apiToken: SecretKeyRef;
  keystoreKey: SecretKeyRef;
  peerToken: SecretKeyRef;
  bridgeDsmKey?: SecretKeyRef;
}

export interface ClusterContext {
  readonly name: string;
  readonly namespace: string;
  readonly spec: DSMClusterSpec;
  readonly names: ReturnType<typeof names>;
  readonly versions: { readonly core: string; readonly storage: string; readonly bridge: string };
  readonly storageReplicas: number;
  /** Set when the DSMCluster has a uid (it exists in the apiserver). */
  readonly owner?: OwnerReference;
  readonly refs: SecretRefs;
  readonly options: DesiredOptions;
}

/** Names of the Secrets (and keys) the workloads mount: the user's or the generated ones. */
export function secretRefs(cluster: DSMCluster): SecretRefs {
  const n = names(cluster.metadata.name);
  const { secrets, bridge } = cluster.spec;
  return {
    adminToken: secrets.adminToken ?? { name: n.adminToken, key: SECRET_KEYS.adminToken },
    apiToken: secrets.apiToken ?? { name: n.apiToken, key: SECRET_KEYS.apiToken },
    keystoreKey: secrets.keystoreKey ?? { name: n.keystoreKey, key: SECRET_KEYS.keystoreKey },
    peerToken: { name: n.peerToken, key: SECRET_KEYS.peerToken },
    ...(bridge.enabled
      ? { bridgeDsmKey: bridge.dsmKeySecret ?? { name: n.bridgeDsmKey, key: SECRET_KEYS.bridgeDsmKey } }
      : {}),
  };
}

export function ownerReference(cluster: DSMCluster): OwnerReference | undefined {
  const { uid, name } = cluster.metadata;
  if (uid === undefined || uid === '') return undefined;
  return { apiVersion: API_VERSION, kind: KIND, name, uid, controller: true, blockOwnerDeletion: true };
}

export function contextOf(cluster: DSMCluster, options: DesiredOptions): ClusterContext {
  const { version } = cluster.spec;
  const owner = ownerReference(cluster);
  return {
    name: cluster.metadata.name,
    namespace: cluster.metadata.namespace,
    spec: cluster.spec,
    names: names(cluster.metadata.name),
    versions: options.versions ?? { core: version, storage: version, bridge: version },
    storageReplicas: options.storageReplicas ?? cluster.spec.storage.replicas,
    ...(owner === undefined ? {} : { owner }),
    refs: secretRefs(cluster),
    options,
  };
}

/** The labels that select a component's pods: immutable in a StatefulSet, so never the version. */
export function selectorOf(
  ctx: Pick<ClusterContext, 'name'>,
  component: ComponentLabel,
): Record<string, string> {
  return { [LABELS.cluster]: ctx.name, [LABELS.component]: component };
}

/** `dsm.io/cluster=<name>,app.kubernetes.io/component=storage`: the scale subresource's status.selector. */
export function selectorString(clusterName: string, component: Component): string {
  return Object.entries(selectorOf({ name: clusterName }, component))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/**
 * Every label of an object of this component, but the version: what volumeClaimTemplates carry (they
 * cannot change once the StatefulSet exists).
 */
export function stableLabelsOf(ctx: ClusterContext, component: ComponentLabel): Record<string, string> {
  return {
    [LABELS.name]: component === 'cluster' || component === 'monitoring' ? 'dsm' : `dsm-${component}`,
    [LABELS.instance]: ctx.name,
    [LABELS.component]: component,
    [LABELS.partOf]: PART_OF,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.cluster]: ctx.name,
  };
}

export function labelsOf(ctx: ClusterContext, component: ComponentLabel): Record<string, string> {
  // Backups run the core image's CLI: they follow the core's version through a roll.
  const version =
    component === 'cluster' || component === 'monitoring'
      ? ctx.spec.version
      : ctx.versions[component === 'backup' ? 'core' : component];
  return { ...stableLabelsOf(ctx, component), [LABELS.version]: version };
}

export interface MetaOptions {
  /** Extra labels (the user's, or the Service kind). */
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  /**
   * Whether the DSMCluster owns it (deleted with it).
   * @default true
   */
  readonly owned?: boolean;
}

/** metadata of an object of this cluster (the namespace comes from the chart). */
export function metadataOf(
  ctx: ClusterContext,
  name: string,
  component: ComponentLabel,
  options: MetaOptions = {},
) {
  const owned = options.owned ?? true;
  return {
    name,
    labels: { ...(options.labels ?? {}), ...labelsOf(ctx, component) },
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    ...(owned && ctx.owner !== undefined ? { ownerReferences: [{ ...ctx.owner }] } : {}),
  };
}
