/**
 * Storage node configuration, declared once: defaults < DSM_CONFIG file < environment < persisted admin
 * changes. The env names, defaults, run-time keys, admin body, CLI flags, README table and
 * config.schema.json (`npm run generate`) all come from this schema. `@dsm/storage/config`: no RocksDB, no express.
 */
import { hostname } from 'node:os';
import {
  defaultsOf,
  isHostPort,
  logLevelSchema,
  serviceSettings,
  setting,
  type DeepPartial,
} from '@dsm/runtime/config';
import { z } from 'zod';

const peerList = z.array(z.string().refine(isHostPort, 'host:port with a port 1..65535'));
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

/** A host name as a DNS label (`Storage_0.local` → `storage-0.local`). */
export function nodeIdOf(host: string): string {
  return (
    host
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'storage'
  );
}

export const storageConfigSchema = z.object({
  nodeId: setting(
    z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'a DNS label such as storage-0'),
    {
      env: 'DSM_STORAGE_NODE_ID',
      default: () => nodeIdOf(hostname()),
      defaultDoc: 'the host name as a DNS label',
      description: 'Name of this node, a DNS label such as storage-0',
    },
  ),
  role: setting(z.enum(['primary', 'replica']), {
    env: 'DSM_STORAGE_ROLE',
    default: 'primary',
    description: 'Role shown by the status endpoint',
  }),
  host: setting(z.string().min(1), {
    env: 'DSM_STORAGE_HOST',
    default: '0.0.0.0',
    description: 'Address the server listens on',
  }),
  port: setting(z.number().int().min(1).max(65535), {
    env: 'DSM_STORAGE_PORT',
    default: 8765,
    description: 'Port of the API, replication, metrics and admin',
  }),
  advertise: setting(z.string().optional(), {
    env: 'DSM_STORAGE_ADVERTISE',
    defaultDoc: '`<hostname>:<port>`',
    description: 'How peers reach this node (host:port)',
  }),
  dataDir: setting(z.string().min(1), {
    env: 'DSM_STORAGE_DATA_DIR',
    default: '/var/lib/dsm-storage/data',
    description: 'RocksDB of the directory',
  }),
  configDir: setting(z.string().min(1), {
    env: 'DSM_STORAGE_CONFIG_DIR',
    default: '/var/lib/dsm-storage/config',
    description: 'Where run-time admin changes are persisted (admin-changes.json)',
  }),
  replicationFactor: setting(z.number().int().min(1).max(16), {
    env: 'DSM_STORAGE_REPLICATION_FACTOR',
    default: 2,
    reported: true,
    description: 'Nodes (this one included) that hold a write before it is acknowledged',
  }),
  syncWith: setting(peerList, {
    env: 'DSM_STORAGE_SYNC_WITH',
    default: [],
    description: 'Peers (host:port) to replicate with; merged with connectPeers',
  }),
  connectPeers: setting(peerList, {
    env: 'DSM_CONNECT_PEERS',
    default: [],
    description: 'More peers (host:port); merged with syncWith',
  }),
  notify: setting(peerList, {
    env: 'DSM_STORAGE_NOTIFY',
    default: [],
    description: 'Core nodes (host:port of their P2P port) told, with the recipients, when transfers arrive',
  }),
  syncIntervalMs: setting(ms(50, 600_000), {
    env: 'DSM_STORAGE_SYNC_INTERVAL_MS',
    default: 1000,
    reported: true,
    description: 'Milliseconds between anti-entropy rounds with each peer',
  }),
  syncBatchSize: setting(z.number().int().min(1).max(10_000), {
    env: 'DSM_STORAGE_SYNC_BATCH_SIZE',
    default: 1000,
    description: 'Log entries asked of a peer at once',
  }),
  pushTimeoutMs: setting(ms(100, 120_000), {
    env: 'DSM_STORAGE_PUSH_TIMEOUT_MS',
    default: 5000,
    description: 'Timeout of pushing a write to a peer, in milliseconds',
  }),
  maxObjectBytes: setting(
    z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024),
    {
      env: 'DSM_MAX_OBJECT_BYTES',
      default: 262_144,
      description: 'Largest object accepted, in DAG-CBOR bytes; the same on all nodes of a cluster',
    },
  ),
  logLevel: setting(logLevelSchema, {
    env: 'DSM_LOG_LEVEL',
    default: 'info',
    runtime: true,
    description: 'Log level',
  }),
  adminTokenFile: setting(z.string().optional(), {
    env: 'DSM_ADMIN_TOKEN_FILE',
    secretFile: true,
    description: 'File holding the bearer token of /v1/admin; without it the admin API refuses every request',
  }),
  peerTokenFile: setting(z.string().optional(), {
    env: 'DSM_STORAGE_PEER_TOKEN_FILE',
    secretFile: true,
    description:
      "File holding the shared secret of the cluster's storage nodes: the replication routes require it as a bearer token and " +
      'this node sends it to its peers. Without it those routes are open (development)',
  }),
  restoreFrom: setting(z.string().optional(), {
    env: 'DSM_STORAGE_RESTORE_FROM',
    description:
      'A backup archive (CAR, `dsm backup create --storage`) loaded at start-up, before the node serves or ' +
      'replicates, when its directory is empty; ignored once it holds data (a restarted node keeps what it has)',
  }),
  cryptoBackend: setting(z.enum(['default', 'node', 'noble']), {
    env: 'DSM_CRYPTO_BACKEND',
    default: 'default',
    description:
      'Signature backend: node:crypto where OpenSSL has the algorithm and noble elsewhere, or one of them',
  }),
});

export type StorageConfig = z.output<typeof storageConfigSchema>;

export function storageDefaults(host = hostname()): DeepPartial<z.input<typeof storageConfigSchema>> {
  return { ...defaultsOf(storageConfigSchema), nodeId: nodeIdOf(host) };
}

const settings = serviceSettings(storageConfigSchema, {
  service: 'storage node',
  configDirKey: 'configDir',
  defaults: () => ({ nodeId: nodeIdOf(hostname()) }),
});

/** Config key → environment variable. */
export const STORAGE_ENV = settings.env;
/** Keys `dsm config set` may change at run time (persisted in the config dir). */
export const STORAGE_RUNTIME_KEYS = settings.runtimeKeys;
/** The environment of a storage node process with these settings (testkit, `npm run dev`). */
export const storageEnv = settings.environment;
/** workloads/storage/config.schema.json. */
export const storageConfigJsonSchema = settings.jsonSchema;
export const storageConfigSources = settings.sources;
export const loadStorageConfig = settings.load;

/** The address peers use for this node. */
export function advertisedAddress(config: StorageConfig): string {
  return (config.advertise ?? `${hostname()}:${config.port}`).toLowerCase();
}
