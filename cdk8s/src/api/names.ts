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
/** The one field manager of every server-side apply. */
export const FIELD_MANAGER = 'dsm-operator';

export type Component = 'core' | 'storage' | 'bridge';

/** Labels every object of a cluster carries; `dsm.io/cluster` is what the operator selects and prunes by. */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  version: 'app.kubernetes.io/version',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  cluster: 'dsm.io/cluster',
} as const;

/** Ports of the services (architecture.md): the same in every pod. */
export const PORTS = { coreApi: 7545, coreP2p: 8765, storage: 8765, bridge: 8768 } as const;

/** `<cluster>-<component>` and the names derived from it. */
export const names = (cluster: string) => ({
  core: `${cluster}-core`,
  coreHeadless: `${cluster}-core-headless`,
  storage: `${cluster}-storage`,
  storageHeadless: `${cluster}-storage-headless`,
  bridge: `${cluster}-bridge`,
  config: (component: Component) => `${cluster}-${component}-config`,
  adminToken: `${cluster}-admin-token`,
  apiToken: `${cluster}-api-token`,
  keystoreKey: `${cluster}-keystore-key`,
  peerToken: `${cluster}-peer-token`,
  bridgeDsmKey: `${cluster}-bridge-dsm-key`,
  dashboards: `${cluster}-dashboards`,
  /** Pod `i` of a StatefulSet and its stable DNS name inside the namespace. */
  pod: (component: 'core' | 'storage', i: number) => `${cluster}-${component}-${i}`,
  podHost: (component: 'core' | 'storage', i: number) =>
    `${cluster}-${component}-${i}.${cluster}-${component}-headless`,
});
