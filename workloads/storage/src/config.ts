/** Storage node configuration: defaults < DSM_CONFIG file < environment < persisted admin changes. */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isHostPort, loadConfig, logLevelSchema, type ConfigSources } from '@dsm/runtime';
import { z } from 'zod';

const peerList = z
  .array(z.string().refine(isHostPort, 'host:port with a port 1..65535'))
  .describe('a comma-separated list of host:port');

export const storageConfigSchema = z.object({
  nodeId: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'a DNS label such as storage-0'),
  role: z.enum(['primary', 'replica']),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** How peers reach this node (host:port); defaults to <hostname>:<port>. */
  advertise: z.string().optional(),
  dataDir: z.string().min(1),
  configDir: z.string().min(1),
  replicationFactor: z.number().int().min(1).max(16),
  syncWith: peerList,
  connectPeers: peerList,
  /** Core nodes (host:port of their P2P port) told when a transfer arrives for someone. */
  notify: peerList,
  syncIntervalMs: z.number().int().min(50).max(600_000),
  syncBatchSize: z.number().int().min(1).max(10_000),
  pushTimeoutMs: z.number().int().min(100).max(120_000),
  maxObjectBytes: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024),
  logLevel: logLevelSchema,
  /** Bearer token for /v1/admin; without it the admin API refuses every request. */
  adminTokenFile: z.string().optional(),
  /**
   * Shared secret of the cluster's storage nodes: the replication routes require it as a bearer token and
   * this node sends it to its peers. Without it those routes are open (development).
   */
  peerTokenFile: z.string().optional(),
  cryptoBackend: z.enum(['default', 'node', 'noble']),
});

export type StorageConfig = z.output<typeof storageConfigSchema>;

export const STORAGE_ENV = {
  nodeId: 'DSM_STORAGE_NODE_ID',
  role: 'DSM_STORAGE_ROLE',
  host: 'DSM_STORAGE_HOST',
  port: 'DSM_STORAGE_PORT',
  advertise: 'DSM_STORAGE_ADVERTISE',
  dataDir: 'DSM_STORAGE_DATA_DIR',
  configDir: 'DSM_STORAGE_CONFIG_DIR',
  replicationFactor: 'DSM_STORAGE_REPLICATION_FACTOR',
  syncWith: 'DSM_STORAGE_SYNC_WITH',
  connectPeers: 'DSM_CONNECT_PEERS',
  notify: 'DSM_STORAGE_NOTIFY',
  syncIntervalMs: 'DSM_STORAGE_SYNC_INTERVAL_MS',
  syncBatchSize: 'DSM_STORAGE_SYNC_BATCH_SIZE',
  pushTimeoutMs: 'DSM_STORAGE_PUSH_TIMEOUT_MS',
  maxObjectBytes: 'DSM_MAX_OBJECT_BYTES',
  logLevel: 'DSM_LOG_LEVEL',
  adminTokenFile: 'DSM_ADMIN_TOKEN_FILE',
  peerTokenFile: 'DSM_STORAGE_PEER_TOKEN_FILE',
  cryptoBackend: 'DSM_CRYPTO_BACKEND',
} as const;

export function storageDefaults(host = hostname()) {
  return {
    nodeId:
      host
        .toLowerCase()
        .replace(/[^a-z0-9.-]/g, '-')
        .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'storage',
    role: 'primary' as const,
    host: '0.0.0.0',
    port: 8765,
    dataDir: '/var/lib/dsm-storage/data',
    configDir: '/var/lib/dsm-storage/config',
    replicationFactor: 2,
    syncWith: [],
    connectPeers: [],
    notify: [],
    syncIntervalMs: 1000,
    syncBatchSize: 1000,
    pushTimeoutMs: 5000,
    maxObjectBytes: 262_144,
    logLevel: 'info' as const,
    cryptoBackend: 'default' as const,
  };
}

export function storageConfigSources(
  env: NodeJS.ProcessEnv = process.env,
): ConfigSources<typeof storageConfigSchema> {
  const defaults = storageDefaults();
  const configDir = env.DSM_STORAGE_CONFIG_DIR ?? defaults.configDir;
  return {
    defaults,
    env: { names: STORAGE_ENV, vars: env },
    ...(env.DSM_CONFIG ? { file: env.DSM_CONFIG } : {}),
    persisted: join(configDir, 'admin-changes.json'),
  };
}

export function loadStorageConfig(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  return loadConfig(storageConfigSchema, storageConfigSources(env));
}

/** The address peers use for this node. */
export function advertisedAddress(config: StorageConfig): string {
  return (config.advertise ?? `${hostname()}:${config.port}`).toLowerCase();
}
