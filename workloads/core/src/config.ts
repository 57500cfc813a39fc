/**
 * Core node configuration, declared once: defaults < DSM_CONFIG file < environment < persisted admin
 * changes. The env names, defaults, run-time keys, admin body, CLI flags, README table and
 * config.schema.json (`npm run generate`) all come from this schema. `@dsm/core/config`: no RocksDB, no express.
 */
import { isHostPort, logLevelSchema, serviceSettings, setting } from '@dsm/runtime/config';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const coreConfigSchema = z.object({
  host: setting(z.string().min(1), {
    env: 'DSM_CORE_HOST',
    default: '0.0.0.0',
    description: 'Address both servers listen on',
  }),
  apiPort: setting(port, { env: 'DSM_CORE_API_PORT', default: 7545, description: 'Port of the client API' }),
  p2pPort: setting(port, {
    env: 'DSM_CORE_P2P_PORT',
    default: 8765,
    description: 'Port of node-to-node traffic, metrics and the admin API',
  }),
  dataDir: setting(z.string().min(1), {
    env: 'DSM_CORE_DATA_DIR',
    default: '/var/lib/dsm/data',
    description: 'RocksDB of the keystore, hosted identities and pending states',
  }),
  configDir: setting(z.string().min(1), {
    env: 'DSM_CORE_CONFIG_DIR',
    default: '/var/lib/dsm/config',
    description: 'Where run-time admin changes are persisted (admin-changes.json)',
  }),
  policiesDir: setting(z.string().min(1), {
    env: 'DSM_CORE_POLICIES_DIR',
    default: '/var/lib/dsm/policies',
    description: 'Verified policy documents (<anchor>.cbor), checked against the anchor when read back',
  }),
  storageNodes: setting(
    z
      .array(z.string().refine(isHostPort, 'host:port with a port in 1..65535'))
      .min(1, 'at least one storage node (host:port)'),
    { env: 'DSM_CONNECT_PEERS', description: 'Storage nodes (host:port), primary first' },
  ),
  corePeers: setting(z.array(z.string().refine(isHostPort, 'host:port with a port in 1..65535')), {
    env: 'DSM_CORE_PEERS',
    default: [],
    description:
      'Every core node of the cluster (host:port of its P2P port; this node may be listed too), the same list on ' +
      'each: a request for an identity hosted by another node is forwarded to it. Empty: a single core node',
  }),
  policyCacheSize: setting(z.number().int().min(0).max(10_000_000), {
    env: 'DSM_CACHE_SIZE',
    default: 1000,
    runtime: true,
    description: 'Verified policies kept in memory (LRU)',
  }),
  policyTtl: setting(z.number().int().min(0).max(31_536_000), {
    env: 'DSM_POLICY_TTL',
    default: 3600,
    runtime: true,
    description: 'Seconds a cached policy stays fresh',
  }),
  maxClockSkewMs: setting(ms(0, 3_600_000), {
    env: 'DSM_MAX_CLOCK_SKEW_MS',
    default: 30_000,
    description: 'How far (ms) a state timestamp may be from this clock',
  }),
  autoReceive: setting(z.boolean(), {
    env: 'DSM_AUTO_RECEIVE',
    default: true,
    runtime: true,
    description: 'Receive incoming transfers of hosted identities without being asked',
  }),
  receivePollMs: setting(ms(50, 3_600_000), {
    env: 'DSM_RECEIVE_POLL_MS',
    default: 1000,
    runtime: true,
    description:
      'How often (ms) auto-receive reads every hosted inbox; while storage nodes name the recipients of new transfers, every 30 s',
  }),
  storageTimeoutMs: setting(ms(100, 120_000), {
    env: 'DSM_STORAGE_TIMEOUT_MS',
    default: 10_000,
    description: 'Timeout of one request to a storage node, in milliseconds',
  }),
  logLevel: setting(logLevelSchema, {
    env: 'DSM_LOG_LEVEL',
    default: 'info',
    runtime: true,
    description: 'Log level',
  }),
  keystoreKeyFile: setting(z.string().min(1, 'a file holding the keystore key'), {
    env: 'DSM_KEYSTORE_KEY_FILE',
    secretFile: true,
    description:
      'File holding the key that encrypts the custodial keystore at rest (any text of at least 16 characters)',
  }),
  restoreFrom: setting(z.string().optional(), {
    env: 'DSM_CORE_RESTORE_FROM',
    description:
      'A snapshot file (`dsm backup create --core`) loaded at start-up into an empty data volume, before anything is ' +
      'served; ignored once the volume holds data. Needs the keystore key the snapshot was taken with',
  }),
  adminTokenFile: setting(z.string().optional(), {
    env: 'DSM_ADMIN_TOKEN_FILE',
    secretFile: true,
    description:
      'File holding the bearer token of the admin API on the P2P port; without it the admin API refuses every request',
  }),
  apiTokenFile: setting(z.string().optional(), {
    env: 'DSM_API_TOKEN_FILE',
    secretFile: true,
    description:
      'File holding the bearer token of custodial operations (creating hosted identities and acting for them); without it they ' +
      'are refused. Reads, client-signed states and content objects need none: signatures and ids authenticate those',
  }),
  cryptoBackend: setting(z.enum(['default', 'node', 'noble']), {
    env: 'DSM_CRYPTO_BACKEND',
    default: 'default',
    description:
      'Signature backend: node:crypto where OpenSSL has the algorithm and noble elsewhere, or one of them',
  }),
});

export type CoreConfig = z.output<typeof coreConfigSchema>;

const settings = serviceSettings(coreConfigSchema, { service: 'core node', configDirKey: 'configDir' });

/** Config key → environment variable. */
export const CORE_ENV = settings.env;
export const CORE_DEFAULTS = settings.defaults;
/** Keys `dsm config set` may change at run time (persisted in the config dir). */
export const RUNTIME_KEYS = settings.runtimeKeys;
/** The environment of a core node process with these settings (testkit, `npm run dev`). */
export const coreEnv = settings.environment;
/** workloads/core/config.schema.json. */
export const coreConfigJsonSchema = settings.jsonSchema;
export const coreConfigSources = settings.sources;
export const loadCoreConfig = settings.load;
