/**
 * The core configuration is declared once (src/config.ts): the names of the deployment guide still work,
 * the derived files are fresh (`npm run generate` rewrites them), and `@dsm/core/config` loads neither
 * RocksDB nor express (the operator and cdk8s import it).
 */
import { describe, expect, it } from '@jest/globals';
import { HEAVY_MODULES, modulesLoadedBy } from '@dsm/testkit';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configTable, formatJson, parseAdminChanges, replaceSection } from '@dsm/runtime/config';
import {
  CORE_DEFAULTS,
  CORE_ENV,
  RUNTIME_KEYS,
  coreConfigJsonSchema,
  coreConfigSchema,
  coreEnv,
  loadCoreConfig,
} from '@dsm/core/config';

const root = join(import.meta.dirname, '../../..');

describe('core settings', () => {
  it('keep every environment name of the deployment guide', () => {
    expect(CORE_ENV).toEqual({
      host: 'DSM_CORE_HOST',
      apiPort: 'DSM_CORE_API_PORT',
      p2pPort: 'DSM_CORE_P2P_PORT',
      dataDir: 'DSM_CORE_DATA_DIR',
      configDir: 'DSM_CORE_CONFIG_DIR',
      policiesDir: 'DSM_CORE_POLICIES_DIR',
      storageNodes: 'DSM_CONNECT_PEERS',
      corePeers: 'DSM_CORE_PEERS',
      policyCacheSize: 'DSM_CACHE_SIZE',
      policyTtl: 'DSM_POLICY_TTL',
      maxClockSkewMs: 'DSM_MAX_CLOCK_SKEW_MS',
      autoReceive: 'DSM_AUTO_RECEIVE',
      receivePollMs: 'DSM_RECEIVE_POLL_MS',
      restoreFrom: 'DSM_CORE_RESTORE_FROM',
      storageTimeoutMs: 'DSM_STORAGE_TIMEOUT_MS',
      logLevel: 'DSM_LOG_LEVEL',
      keystoreKeyFile: 'DSM_KEYSTORE_KEY_FILE',
      adminTokenFile: 'DSM_ADMIN_TOKEN_FILE',
      apiTokenFile: 'DSM_API_TOKEN_FILE',
      cryptoBackend: 'DSM_CRYPTO_BACKEND',
    });
  });

  it('keep the defaults and the run-time keys', () => {
    expect(CORE_DEFAULTS).toEqual({
      host: '0.0.0.0',
      apiPort: 7545,
      p2pPort: 8765,
      dataDir: '/var/lib/dsm/data',
      configDir: '/var/lib/dsm/config',
      policiesDir: '/var/lib/dsm/policies',
      corePeers: [],
      policyCacheSize: 1000,
      policyTtl: 3600,
      maxClockSkewMs: 30_000,
      autoReceive: true,
      receivePollMs: 1000,
      storageTimeoutMs: 10_000,
      logLevel: 'info',
      cryptoBackend: 'default',
    });
    expect([...RUNTIME_KEYS].sort()).toEqual(
      ['autoReceive', 'logLevel', 'policyCacheSize', 'policyTtl', 'receivePollMs'].sort(),
    );
  });

  it('load from the environment that coreEnv writes', () => {
    const env = coreEnv({
      storageNodes: ['127.0.0.1:1', '127.0.0.1:2'],
      keystoreKeyFile: '/k',
      policyCacheSize: 5,
      autoReceive: false,
    });
    expect(env).toEqual({
      DSM_CONNECT_PEERS: '127.0.0.1:1,127.0.0.1:2',
      DSM_KEYSTORE_KEY_FILE: '/k',
      DSM_CACHE_SIZE: '5',
      DSM_AUTO_RECEIVE: 'false',
    });
    expect(loadCoreConfig({ ...env, DSM_CORE_CONFIG_DIR: '/nonexistent-dsm' })).toMatchObject({
      storageNodes: ['127.0.0.1:1', '127.0.0.1:2'],
      policyCacheSize: 5,
      autoReceive: false,
      policyTtl: 3600,
    });
  });

  it('accept in an admin change exactly the run-time keys, within the schema bounds', () => {
    expect(parseAdminChanges(coreConfigSchema, { policyCacheSize: 2000, logLevel: 'debug' })).toEqual({
      policyCacheSize: 2000,
      logLevel: 'debug',
    });
    expect(() => parseAdminChanges(coreConfigSchema, { receivePollMs: 5 })).toThrow(ConfigError);
    expect(() => parseAdminChanges(coreConfigSchema, { policyCacheSize: 10_000_001 })).toThrow(ConfigError);
    expect(() => parseAdminChanges(coreConfigSchema, { logLevel: 'loud' })).toThrow(ConfigError);
    expect(() => parseAdminChanges(coreConfigSchema, { storageNodes: [] })).toThrow(
      'storageNodes: not a setting changeable at run time',
    );
  });
});

describe('files generated from the core settings', () => {
  // A failure shows the difference: `npm run generate` rewrites the file after an intended change.
  it('config.schema.json', () => {
    const file = 'workloads/core/config.schema.json';
    const committed = readFileSync(join(root, file), 'utf8');
    expect({ file, text: committed }).toEqual({ file, text: formatJson(coreConfigJsonSchema()) });
    const schema = JSON.parse(committed) as { properties: Record<string, Record<string, unknown>> };
    expect(schema.properties.policyCacheSize).toMatchObject({
      'x-env': 'DSM_CACHE_SIZE',
      'x-runtime': true,
      default: 1000,
      minimum: 0,
      maximum: 10_000_000,
    });
  });

  it('the configuration table of README.md', () => {
    const file = 'workloads/core/README.md';
    const committed = readFileSync(join(root, file), 'utf8');
    expect({ file, text: committed }).toEqual({
      file,
      text: replaceSection(committed, 'config', configTable(coreConfigSchema)),
    });
  });
});

describe('@dsm/core/config (built)', () => {
  it('loads neither rocksdb-native nor express, and neither does @dsm/runtime/config', () => {
    // The detector sees them where they are loaded: the package entry point.
    expect(modulesLoadedBy('@dsm/core').filter((url) => HEAVY_MODULES.test(url)).length).toBeGreaterThan(0);
    for (const specifier of ['@dsm/core/config', '@dsm/runtime/config']) {
      const loaded = modulesLoadedBy(specifier);
      expect(loaded.some((url) => url.endsWith('/dist/config.js'))).toBe(true);
      expect({ specifier, heavy: loaded.filter((url) => HEAVY_MODULES.test(url)) }).toEqual({
        specifier,
        heavy: [],
      });
    }
  });
});
