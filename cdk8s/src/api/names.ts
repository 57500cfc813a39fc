/**
 * The DSMCluster API's identity and the names and labels of the objects it owns, in one place: the
 * constructs name objects with these, the operator finds and prunes them with these.
 */
export const GROUP = 'dsm.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'DSMCluster';
export const PLURAL = 'dsmclusters';
export const SINGULAR = 'dsmcluster';
export const SHORT_NAMES = ['dsm'] as const;
/** `kubectl get dsm-all` style groupings the CRD joins. */
export const CATEGORIES = ['all', 'dsm'] as const;
/** The one field manager of every server-side apply. */
export const FIELD_MANAGER = 'dsm-operator';
/** `app.kubernetes.io/managed-by` and `part-of` of every object. */
export const MANAGED_BY = 'dsm-operator';
export const PART_OF = 'dsm';

export type Component = 'core' | 'storage' | 'bridge';
export const COMPONENTS: readonly Component[] = ['storage', 'core', 'bridge'];
/** The `app.kubernetes.io/component` of an object: a service, or what the whole cluster shares. */
export type ComponentLabel = Component | 'cluster' | 'monitoring' | 'backup';

/** Labels every object of a cluster carries; `dsm.io/cluster` is what the operator selects and prunes by. */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  version: 'app.kubernetes.io/version',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  cluster: 'dsm.io/cluster',
  /** `client` or `headless` on Services: a ServiceMonitor selects the client one only (no double scrape). */
  serviceKind: 'dsm.io/service-kind',
} as const;

export const ANNOTATIONS = {
  /** On pod templates: sha256 of the component's settings, so a settings change rolls the pods. */
  configDigest: 'dsm.io/config-digest',
  /** On Secrets generatedSecrets() made: created once, never updated (a new value would lock data out). */
  generated: 'dsm.io/generated',
  /**
   * `Retain` on the objects that must outlive the cluster (the bridge's volume, a generated keystore key or
   * bridge DSM key whose volumes are retained): they carry no owner reference and are never pruned.
   */
  reclaimPolicy: 'dsm.io/reclaim-policy',
  /**
   * On the storage pod template: which peer-token Secret the pods read (the uid of the one the operator
   * last created). The nodes read the token at start, so a recreated Secret must roll them.
   */
  peerTokenRevision: 'dsm.io/peer-token-revision',
} as const;

/** Ports of the services (architecture.md): the same in every pod. */
export const PORTS = { coreApi: 7545, coreP2p: 8765, storage: 8765, bridge: 8768 } as const;
/** Names of the ports in Services, containers and ServiceMonitors. */
export const PORT_NAMES = { coreApi: 'api', coreP2p: 'p2p', storage: 'p2p', bridge: 'api' } as const;

/** Keys of the Secrets generatedSecrets() makes (the spec's defaults for a user's Secret are the same). */
export const SECRET_KEYS = {
  adminToken: 'token',
  apiToken: 'token',
  keystoreKey: 'key',
  peerToken: 'token',
  bridgeDsmKey: 'dsm-key',
} as const;

/**
 * Longest DSMCluster name: `<name>-storage-headless` is a Service name (a DNS label, at most 63 characters)
 * and a StatefulSet's pods carry `controller-revision-hash: <name>-storage-<10 characters>` (a label value,
 * at most 63): 40 leaves room for both.
 */
export const MAX_CLUSTER_NAME = 40;
/** A DNS-1035 label: Services need one (no dots, a letter first). */
export const CLUSTER_NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';

/** Why a DSMCluster cannot have this name, or undefined when it can (the CRD's CEL rule says the same). */
export function clusterNameProblem(name: string): string | undefined {
  if (name.length > MAX_CLUSTER_NAME || !new RegExp(CLUSTER_NAME_PATTERN).test(name)) {
    return (
      `metadata.name must be at most ${MAX_CLUSTER_NAME} lower-case letters, digits and hyphens, starting with a ` +
      'letter and ending with a letter or digit: it names the Services and pods of the cluster'
    );
  }
  return undefined;
}

/** `<cluster>-<component>` and the names derived from it. */
export const names = (cluster: string) => ({
  core: `${cluster}-core`,
  coreHeadless: `${cluster}-core-headless`,
  storage: `${cluster}-storage`,
  storageHeadless: `${cluster}-storage-headless`,
  bridge: `${cluster}-bridge`,
  /** The bridge's PersistentVolumeClaim (core and storage get theirs from the StatefulSet template). */
  bridgeData: `${cluster}-bridge-data`,
  config: (component: Component) => `${cluster}-${component}-config`,
  adminToken: `${cluster}-admin-token`,
  apiToken: `${cluster}-api-token`,
  keystoreKey: `${cluster}-keystore-key`,
  peerToken: `${cluster}-peer-token`,
  bridgeDsmKey: `${cluster}-bridge-dsm-key`,
  dashboards: `${cluster}-dashboards`,
  alerts: `${cluster}-alerts`,
  /** The CronJob of spec.backup (its Jobs and pods are named after it). */
  backup: `${cluster}-backup`,
  /** Pod `i` of a StatefulSet and its stable DNS name inside the namespace. */
  pod: (component: 'core' | 'storage', i: number) => `${cluster}-${component}-${i}`,
  podHost: (component: 'core' | 'storage', i: number) =>
    `${cluster}-${component}-${i}.${cluster}-${component}-headless`,
});

/** The StatefulSet volumeClaimTemplate name: PVCs are `data-<cluster>-<component>-<i>`. */
export const DATA_VOLUME = 'data';
