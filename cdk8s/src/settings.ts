/**
 * The settings file (`DSM_CONFIG`, JSON) of each component: its keys are the services' own config keys
 * (workloads/{core,storage,bridge}/src/config.ts), so the service validates it like any config file and the
 * guide's environment variables still override it. Only what differs per pod (a storage node's id and
 * address) is in the environment, from the downward API.
 */
import type { bridgeConfigSchema } from '@dsm/bridge/config';
import type { coreConfigSchema } from '@dsm/core/config';
import type { storageConfigSchema } from '@dsm/storage/config';
import type { z } from 'zod';
import { PORTS } from './api/names.js';
import type { ClusterContext } from './context.js';

/** Where the ConfigMap is mounted, and the file `DSM_CONFIG` names. */
export const CONFIG_DIR = '/etc/dsm';
export const CONFIG_FILE = 'config.json';
/** Where the Secrets are mounted (one projected, read-only volume), one file per secret. */
export const SECRET_DIR = '/run/secrets/dsm';
export const SECRET_FILES = {
  adminToken: 'admin-token',
  apiToken: 'api-token',
  keystoreKey: 'keystore-key',
  peerToken: 'storage-peer-token',
  bridgeDsmKey: 'bridge-dsm-key',
  bridgeEvmKey: 'bridge-evm-key',
  bridgeRpcUrl: 'bridge-rpc-url',
} as const;
export const secretPath = (file: keyof typeof SECRET_FILES) => `${SECRET_DIR}/${SECRET_FILES[file]}`;

/**
 * Where each component's volume is mounted: exactly its image's data VOLUME, and its data, config (and
 * policies) folders live inside it. Each image declares those folders as VOLUMEs, and containerd gives
 * every VOLUME path that is not itself a mount an anonymous volume of the container's own: a volume mounted
 * at their parent (as it first was) left the state in those, lost with the container. Found on a real
 * node; cdk8s/test/settings.test.ts holds these paths to the Dockerfile.
 */
export const DATA_DIRS = {
  core: '/var/lib/dsm/data',
  storage: '/var/lib/dsm-storage/data',
  bridge: '/var/lib/dsm-bridge/data',
} as const;

/** Every storage pod (`host:port`), pod 0 first ("primary first" for the core). */
export function storagePeers(ctx: ClusterContext): string[] {
  return Array.from(
    { length: ctx.storageReplicas },
    (_, i) => `${ctx.names.podHost('storage', i)}:${PORTS.storage}`,
  );
}

/** Every core pod's P2P address. */
export function corePeers(ctx: ClusterContext): string[] {
  return Array.from(
    { length: ctx.spec.core.replicas },
    (_, i) => `${ctx.names.podHost('core', i)}:${PORTS.coreP2p}`,
  );
}

export type CoreSettings = Partial<z.input<typeof coreConfigSchema>>;
export type StorageSettings = Partial<z.input<typeof storageConfigSchema>>;
export type BridgeSettings = Partial<z.input<typeof bridgeConfigSchema>>;

/**
 * Keys left out of the config digest: the storage-node lists. The operator adds and removes a storage peer
 * on running nodes through their admin APIs (`topology add-peer`, persisted by the nodes), so scaling
 * storage does not restart every pod; a pod that starts reads the current list from the file.
 */
export const TOPOLOGY_KEYS = { core: ['storageNodes'], storage: ['syncWith'], bridge: [] } as const;

export function coreSettings(ctx: ClusterContext): CoreSettings {
  const core = ctx.spec.core;
  return {
    apiPort: PORTS.coreApi,
    p2pPort: PORTS.coreP2p,
    dataDir: DATA_DIRS.core,
    configDir: `${DATA_DIRS.core}/config`,
    policiesDir: `${DATA_DIRS.core}/policies`,
    storageNodes: storagePeers(ctx),
    // One core node forwards nothing: an empty list says so (core's DSM_CORE_PEERS).
    corePeers: core.replicas > 1 ? corePeers(ctx) : [],
    policyCacheSize: core.policyCacheSize,
    policyTtl: core.policyTtl,
    maxClockSkewMs: core.maxClockSkewMs,
    autoReceive: core.autoReceive,
    receivePollMs: core.receivePollMs,
    logLevel: core.logLevel,
    keystoreKeyFile: secretPath('keystoreKey'),
    adminTokenFile: secretPath('adminToken'),
    apiTokenFile: secretPath('apiToken'),
  };
}

export function storageSettings(ctx: ClusterContext): StorageSettings {
  const storage = ctx.spec.storage;
  return {
    // No node is special in a StatefulSet: every one is a replica of the others.
    role: 'replica',
    port: PORTS.storage,
    dataDir: DATA_DIRS.storage,
    configDir: `${DATA_DIRS.storage}/config`,
    replicationFactor: storage.replicationFactor,
    // Every storage pod: a node drops its own address (DSM_STORAGE_ADVERTISE) from the list.
    syncWith: storagePeers(ctx),
    notify: corePeers(ctx),
    syncIntervalMs: storage.syncIntervalMs,
    maxObjectBytes: storage.maxObjectBytes,
    logLevel: storage.logLevel,
    adminTokenFile: secretPath('adminToken'),
    peerTokenFile: secretPath('peerToken'),
  };
}

export function bridgeSettings(ctx: ClusterContext): BridgeSettings {
  const bridge = ctx.spec.bridge;
  return {
    port: PORTS.bridge,
    dataDir: DATA_DIRS.bridge,
    configDir: `${DATA_DIRS.bridge}/config`,
    dsmNode: `${ctx.names.core}:${PORTS.coreApi}`,
    storageNodes: storagePeers(ctx),
    replicationFactor: ctx.spec.storage.replicationFactor,
    ...(bridge.rpcUrl !== undefined
      ? { ethereumRpc: bridge.rpcUrl }
      : { ethereumRpcFile: secretPath('bridgeRpcUrl') }),
    ...(bridge.chainId === undefined ? {} : { chainId: bridge.chainId }),
    ...(bridge.contractAddress === undefined ? {} : { contract: bridge.contractAddress }),
    fromBlock: bridge.fromBlock,
    confirmations: bridge.confirmations,
    logLevel: bridge.logLevel,
    dsmKeyFile: secretPath('bridgeDsmKey'),
    evmKeyFile: secretPath('bridgeEvmKey'),
    adminTokenFile: secretPath('adminToken'),
  };
}
