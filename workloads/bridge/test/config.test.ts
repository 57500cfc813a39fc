/**
 * The bridge configuration is declared once (src/config.ts): the names of the deployment guide work, bad
 * values are refused naming the key, the derived files are fresh (`npm run generate` rewrites them), and the
 * light subpaths (`/config`, `/identity`, `/contracts`) load neither RocksDB nor express.
 */
import { describe, expect, it } from '@jest/globals';
import { HEAVY_MODULES, modulesLoadedBy } from '@dsm/testkit';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configTable, formatJson, parseAdminChanges, replaceSection } from '@dsm/runtime/config';
import {
  BRIDGE_DEFAULTS,
  BRIDGE_ENV,
  RUNTIME_KEYS,
  bridgeConfigJsonSchema,
  bridgeConfigSchema,
  bridgeEnv,
  loadBridgeConfig,
} from '@dsm/bridge/config';
import { bridgeIdentity, parseBridgeSeed } from '@dsm/bridge/identity';

const root = join(import.meta.dirname, '../../..');
const required = {
  DSM_BRIDGE_DSM_NODE: 'dsm-core:7545',
  DSM_BRIDGE_STORAGE_NODES: 'dsm-storage-primary:8765,dsm-storage-replica:8765',
  DSM_BRIDGE_ETHEREUM_RPC: 'http://evm:8545',
  DSM_BRIDGE_CHAIN_ID: '31337',
  DSM_BRIDGE_CONTRACT: `0x${'ab'.repeat(20)}`,
  DSM_BRIDGE_DSM_KEY_FILE: '/run/secrets/bridge-dsm-key',
  DSM_BRIDGE_EVM_KEY_FILE: '/run/secrets/bridge-evm-key',
  DSM_BRIDGE_CONFIG_DIR: '/nonexistent-dsm',
};

describe('bridge settings', () => {
  it("keep the deployment guide's names and defaults (port 8768, 6 confirmations)", () => {
    expect(BRIDGE_ENV).toMatchObject({
      port: 'DSM_BRIDGE_PORT',
      dsmNode: 'DSM_BRIDGE_DSM_NODE',
      ethereumRpc: 'DSM_BRIDGE_ETHEREUM_RPC',
      confirmations: 'DSM_BRIDGE_CONFIRMATION_BLOCKS',
      adminTokenFile: 'DSM_ADMIN_TOKEN_FILE',
    });
    expect(BRIDGE_DEFAULTS).toMatchObject({
      port: 8768,
      confirmations: 6,
      replicationFactor: 2,
      autoDeploy: true,
    });
    expect([...RUNTIME_KEYS].sort()).toEqual(['autoDeploy', 'logLevel', 'pollMs']);
  });

  it('load from the environment, lists comma separated', () => {
    const config = loadBridgeConfig(required);
    expect(config).toMatchObject({
      storageNodes: ['dsm-storage-primary:8765', 'dsm-storage-replica:8765'],
      chainId: 31337,
      confirmations: 6,
      attesterKeyFiles: [],
    });
    const env = bridgeEnv({ confirmations: 12, attesterKeyFiles: ['/a', '/b'] });
    expect(env).toEqual({ DSM_BRIDGE_CONFIRMATION_BLOCKS: '12', DSM_BRIDGE_ATTESTER_KEY_FILES: '/a,/b' });
  });

  it.each([
    ['DSM_BRIDGE_CONFIRMATION_BLOCKS', '0', 'confirmations'],
    ['DSM_BRIDGE_CONTRACT', '0x1234', 'contract'],
    ['DSM_BRIDGE_ETHEREUM_RPC', 'ftp://node', 'ethereumRpc'],
    ['DSM_BRIDGE_DSM_NODE', 'core', 'dsmNode'],
    ['DSM_BRIDGE_CHAIN_ID', '-1', 'chainId'],
  ])('refuse %s=%s naming the key', (name, value, key) => {
    let error: unknown;
    try {
      loadBridgeConfig({ ...required, [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
  });

  it('change at run time only autoDeploy, pollMs and logLevel', () => {
    expect(parseAdminChanges(bridgeConfigSchema, { autoDeploy: false, pollMs: 500 })).toEqual({
      autoDeploy: false,
      pollMs: 500,
    });
    expect(() => parseAdminChanges(bridgeConfigSchema, { pollMs: 1 })).toThrow(ConfigError);
    expect(() => parseAdminChanges(bridgeConfigSchema, { confirmations: 1 })).toThrow(
      'confirmations: not a setting changeable at run time',
    );
  });
});

describe("the bridge's identity", () => {
  it('is a function of the key file alone', () => {
    const seed = parseBridgeSeed(`  0x${'07'.repeat(32)}\n`);
    expect(bridgeIdentity(seed).identity.toString()).toBe(
      bridgeIdentity(Uint8Array.from(seed)).identity.toString(),
    );
    expect(bridgeIdentity(seed).identity.toString()).not.toBe(
      bridgeIdentity(new Uint8Array(32).fill(8)).identity.toString(),
    );
    expect(bridgeIdentity(seed).genesis).toMatchObject({ suite: 'ml-dsa-65', label: 'dsm-bridge' });
  });

  it('refuses a key file that is not 32 bytes of hex', () => {
    expect(() => parseBridgeSeed('abc')).toThrow(/64 hex characters/);
    expect(() => parseBridgeSeed('zz'.repeat(32))).toThrow(/64 hex characters/);
  });
});

describe('files generated from the bridge settings', () => {
  it('config.schema.json', () => {
    const file = 'workloads/bridge/config.schema.json';
    const committed = readFileSync(join(root, file), 'utf8');
    expect({ file, text: committed }).toEqual({ file, text: formatJson(bridgeConfigJsonSchema()) });
  });

  it('the configuration table of README.md', () => {
    const file = 'workloads/bridge/README.md';
    const committed = readFileSync(join(root, file), 'utf8');
    expect({ file, text: committed }).toEqual({
      file,
      text: replaceSection(committed, 'config', configTable(bridgeConfigSchema)),
    });
  });
});

describe('light subpaths of @dsm/bridge (built)', () => {
  it('the detector sees them where they are loaded: the package entry point', () => {
    expect(modulesLoadedBy('@dsm/bridge').filter((url) => HEAVY_MODULES.test(url)).length).toBeGreaterThan(0);
  });

  it.each(['@dsm/bridge/config', '@dsm/bridge/identity', '@dsm/bridge/contracts'])(
    '%s loads neither rocksdb-native nor express',
    (specifier) => {
      expect({
        specifier,
        heavy: modulesLoadedBy(specifier).filter((url) => HEAVY_MODULES.test(url)),
      }).toEqual({
        specifier,
        heavy: [],
      });
    },
  );
});
