/** Core node configuration: defaults < DSM_CONFIG file < environment < persisted admin changes. */
import { join } from 'node:path';
import { isHostPort, loadConfig, logLevelSchema, type ConfigSources } from '@dsm/runtime';
import { z } from 'zod';

export const coreConfigSchema = z.object({
  host: z.string().min(1),
  /** Client API. */
  apiPort: z.number().int().min(1).max(65535),
  /** Node-to-node traffic, metrics and admin. */
  p2pPort: z.number().int().min(1).max(65535),
  dataDir: z.string().min(1),
  configDir: z.string().min(1),
  policiesDir: z.string().min(1),
  /** Storage nodes (host:port), primary first. */
  storageNodes: z
    .array(z.string().refine(isHostPort, 'host:port with a port in 1..65535'))
    .min(1, 'at least one storage node (host:port)'),
  /** Verified policies kept in memory (LRU). */
  policyCacheSize: z.number().int().min(0).max(10_000_000),
  /** Seconds a cached policy stays fresh. */
  policyTtl: z.number().int().min(0).max(31_536_000),
  maxClockSkewMs: z.number().int().min(0).max(3_600_000),
  /** Receive incoming transfers of hosted identities without being asked. */
  autoReceive: z.boolean(),
  receivePollMs: z.number().int().min(50).max(3_600_000),
  storageTimeoutMs: z.number().int().min(100).max(120_000),
  logLevel: logLevelSchema,
  /** Key that encrypts the custodial keystore at rest (any secret text, read from a file). */
  keystoreKeyFile: z.string().min(1, 'a file holding the keystore key'),
  /** Bearer token for the admin endpoints on the P2P port; without it they refuse every request. */
  adminTokenFile: z.string().optional(),
  /**
   * Bearer token for custodial operations (creating hosted identities and acting for them); without it they
   * refuse every request. Reads, client-signed states and content objects need none: signatures and ids
   * authenticate those.
   */
  apiTokenFile: z.string().optional(),
  cryptoBackend: z.enum(['default', 'node', 'noble']),
});

export type CoreConfig = z.output<typeof coreConfigSchema>;

export const CORE_ENV = {
  host: 'DSM_CORE_HOST',
  apiPort: 'DSM_CORE_API_PORT',
  p2pPort: 'DSM_CORE_P2P_PORT',
  dataDir: 'DSM_CORE_DATA_DIR',
  configDir: 'DSM_CORE_CONFIG_DIR',
  policiesDir: 'DSM_CORE_POLICIES_DIR',
  storageNodes: 'DSM_CONNECT_PEERS',
  policyCacheSize: 'DSM_CACHE_SIZE',
  policyTtl: 'DSM_POLICY_TTL',
  maxClockSkewMs: 'DSM_MAX_CLOCK_SKEW_MS',
  autoReceive: 'DSM_AUTO_RECEIVE',
  receivePollMs: 'DSM_RECEIVE_POLL_MS',
  storageTimeoutMs: 'DSM_STORAGE_TIMEOUT_MS',
  logLevel: 'DSM_LOG_LEVEL',
  keystoreKeyFile: 'DSM_KEYSTORE_KEY_FILE',
  adminTokenFile: 'DSM_ADMIN_TOKEN_FILE',
  apiTokenFile: 'DSM_API_TOKEN_FILE',
  cryptoBackend: 'DSM_CRYPTO_BACKEND',
} as const;

export const CORE_DEFAULTS = {
  host: '0.0.0.0',
  apiPort: 7545,
  p2pPort: 8765,
  dataDir: '/var/lib/dsm/data',
  configDir: '/var/lib/dsm/config',
  policiesDir: '/var/lib/dsm/policies',
  policyCacheSize: 1000,
  policyTtl: 3600,
  maxClockSkewMs: 30_000,
  autoReceive: true,
  receivePollMs: 1000,
  storageTimeoutMs: 10_000,
  logLevel: 'info' as const,
  cryptoBackend: 'default' as const,
};

/** Keys `dsm config set` may change at run time (persisted in the config dir). */
export const RUNTIME_KEYS = [
  'policyCacheSize',
  'policyTtl',
  'logLevel',
  'autoReceive',
  'receivePollMs',
] as const;

export function coreConfigSources(
  env: NodeJS.ProcessEnv = process.env,
): ConfigSources<typeof coreConfigSchema> {
  const configDir = env.DSM_CORE_CONFIG_DIR || CORE_DEFAULTS.configDir;
  return {
    defaults: CORE_DEFAULTS,
    env: { names: CORE_ENV, vars: env },
    ...(env.DSM_CONFIG ? { file: env.DSM_CONFIG } : {}),
    persisted: join(configDir, 'admin-changes.json'),
  };
}

export function loadCoreConfig(env: NodeJS.ProcessEnv = process.env): CoreConfig {
  return loadConfig(coreConfigSchema, coreConfigSources(env));
}
