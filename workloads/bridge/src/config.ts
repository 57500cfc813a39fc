/**
 * Bridge configuration, declared once: defaults < DSM_CONFIG file < environment < persisted admin changes.
 * The env names, defaults, run-time keys, README table and config.schema.json (`npm run generate`) come from
 * this schema. `@dsm/bridge/config`: no RocksDB, no express, no ethers.
 */
import { isHostPort, logLevelSchema, serviceSettings, setting } from '@dsm/runtime/config';
import { z } from 'zod';

const ms = (min: number, max: number) => z.number().int().min(min).max(max);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an EVM address: 0x and 40 hex characters');
const rpcUrl = z
  .string()
  .refine((value) => /^(https?|wss?):\/\//.test(value) && URL.canParse(value), 'an http(s) or ws(s) URL');

export const bridgeConfigSchema = z.object({
  host: setting(z.string().min(1), {
    env: 'DSM_BRIDGE_HOST',
    default: '0.0.0.0',
    description: 'Address the bridge API listens on',
  }),
  port: setting(z.number().int().min(1).max(65535), {
    env: 'DSM_BRIDGE_PORT',
    default: 8768,
    description: 'Port of the bridge API, its metrics and its admin API',
  }),
  dataDir: setting(z.string().min(1), {
    env: 'DSM_BRIDGE_DATA_DIR',
    default: '/var/lib/dsm-bridge/data',
    description: "RocksDB of the bridge's steps: its DSM chain, deposits, withdrawals, EVM progress",
  }),
  restoreFrom: setting(z.string().optional(), {
    env: 'DSM_BRIDGE_RESTORE_FROM',
    description:
      'A snapshot file (`dsm backup create --bridge`) loaded at start-up into an empty data volume, before anything is ' +
      'served; ignored once the volume holds data',
  }),
  configDir: setting(z.string().min(1), {
    env: 'DSM_BRIDGE_CONFIG_DIR',
    default: '/var/lib/dsm-bridge/config',
    description: 'Where run-time admin changes are persisted (admin-changes.json)',
  }),
  dsmNode: setting(z.string().refine(isHostPort, 'host:port of a core node client API'), {
    env: 'DSM_BRIDGE_DSM_NODE',
    description: "The core node (host:port of its client API) the bridge's DSM identity uses",
  }),
  storageNodes: setting(
    z
      .array(z.string().refine(isHostPort, 'host:port with a port in 1..65535'))
      .min(1, 'at least one storage node (host:port)'),
    {
      env: 'DSM_BRIDGE_STORAGE_NODES',
      description:
        'Storage nodes (host:port) asked directly whether a deposit is replicated before it is minted',
    },
  ),
  replicationFactor: setting(z.number().int().min(1).max(64), {
    env: 'DSM_BRIDGE_REPLICATION_FACTOR',
    default: 2,
    description: 'Storage nodes that must hold a deposit (verified by id) before it is minted',
  }),
  ethereumRpc: setting(rpcUrl.optional(), {
    env: 'DSM_BRIDGE_ETHEREUM_RPC',
    defaultDoc: 'unset: the URL is read from DSM_BRIDGE_ETHEREUM_RPC_FILE',
    description: 'JSON-RPC URL of the EVM node (an external node or the dev chain)',
  }),
  ethereumRpcFile: setting(z.string().optional(), {
    env: 'DSM_BRIDGE_ETHEREUM_RPC_FILE',
    secretFile: true,
    description:
      'File holding the JSON-RPC URL, for a URL that carries an API key; used when DSM_BRIDGE_ETHEREUM_RPC is unset',
  }),
  chainId: setting(
    z
      .number()
      .int()
      .min(1)
      .max(2 ** 53 - 1),
    {
      env: 'DSM_BRIDGE_CHAIN_ID',
      description: 'Chain id the EVM node must report; deposits name it in their memo',
    },
  ),
  contract: setting(address, {
    env: 'DSM_BRIDGE_CONTRACT',
    description: 'Address of the DsmBridge contract',
  }),
  fromBlock: setting(z.number().int().min(0), {
    env: 'DSM_BRIDGE_FROM_BLOCK',
    default: 0,
    description: "First EVM block scanned for BurnToDsm events (the contract's deployment block)",
  }),
  confirmations: setting(z.number().int().min(1).max(10_000), {
    env: 'DSM_BRIDGE_CONFIRMATION_BLOCKS',
    default: 6,
    description:
      'Confirmations (the block itself counts as one) before a burn is released or a mint counts as final',
  }),
  dsmKeyFile: setting(z.string().min(1, "a file holding the bridge's DSM key"), {
    env: 'DSM_BRIDGE_DSM_KEY_FILE',
    secretFile: true,
    description:
      "File holding the bridge's DSM identity key: a 32-byte seed as 64 hex characters (`dsm bridge keygen`)",
  }),
  evmKeyFile: setting(z.string().min(1, "a file holding the bridge's EVM key"), {
    env: 'DSM_BRIDGE_EVM_KEY_FILE',
    secretFile: true,
    description:
      'File holding the secp256k1 private key (0x + 64 hex) that sends mint transactions and signs attestations',
  }),
  attesterKeyFiles: setting(z.array(z.string().min(1)), {
    env: 'DSM_BRIDGE_ATTESTER_KEY_FILES',
    default: [],
    description:
      'More files of attester keys (comma separated); the bridge signs each mint with the EVM key and these, up to the threshold',
  }),
  autoDeploy: setting(z.boolean(), {
    env: 'DSM_BRIDGE_AUTO_DEPLOY',
    default: true,
    runtime: true,
    description:
      "Deploy a DSM token's wrapped ERC-20 at its first deposit; when off, such a deposit is refunded",
  }),
  pollMs: setting(ms(50, 600_000), {
    env: 'DSM_BRIDGE_POLL_MS',
    default: 1000,
    runtime: true,
    description: 'Interval in milliseconds between looks at the DSM inbox and the EVM chain',
  }),
  logBlockRange: setting(z.number().int().min(1).max(100_000), {
    env: 'DSM_BRIDGE_LOG_BLOCK_RANGE',
    default: 1000,
    description: 'Most blocks asked for in one eth_getLogs request',
  }),
  rpcTimeoutMs: setting(ms(100, 120_000), {
    env: 'DSM_BRIDGE_RPC_TIMEOUT_MS',
    default: 10_000,
    description: 'Timeout of one request to the EVM node or the core node, in milliseconds',
  }),
  logLevel: setting(logLevelSchema, {
    env: 'DSM_LOG_LEVEL',
    default: 'info',
    runtime: true,
    description: 'Log level',
  }),
  adminTokenFile: setting(z.string().optional(), {
    env: 'DSM_ADMIN_TOKEN_FILE',
    secretFile: true,
    description:
      'File holding the bearer token of the admin API (deploying tokens, config); without it the admin API refuses every request',
  }),
});

export type BridgeConfig = z.output<typeof bridgeConfigSchema>;

const settings = serviceSettings(bridgeConfigSchema, { service: 'bridge', configDirKey: 'configDir' });

/** Config key → environment variable. */
export const BRIDGE_ENV = settings.env;
export const BRIDGE_DEFAULTS = settings.defaults;
/** Keys `dsm config set` may change at run time (persisted in the config dir). */
export const RUNTIME_KEYS = settings.runtimeKeys;
/** The environment of a bridge process with these settings (tests, `npm run dev`). */
export const bridgeEnv = settings.environment;
/** workloads/bridge/config.schema.json. */
export const bridgeConfigJsonSchema = settings.jsonSchema;
export const bridgeConfigSources = settings.sources;
export const loadBridgeConfig = settings.load;
