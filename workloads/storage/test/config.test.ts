/**
 * The storage configuration is declared once (src/config.ts): the names of the deployment guide still
 * work, the derived files are fresh (`npm run generate` rewrites them), and `@dsm/storage/config` loads
 * neither RocksDB nor express (the operator and cdk8s import it).
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configTable, formatJson, parseAdminChanges, replaceSection } from '@dsm/runtime/config';
import {
  STORAGE_ENV,
  STORAGE_RUNTIME_KEYS,
  loadStorageConfig,
  nodeIdOf,
  storageConfigJsonSchema,
  storageConfigSchema,
  storageDefaults,
  storageEnv,
} from '@dsm/storage/config';

const root = join(import.meta.dirname, '../../..');

describe('storage settings', () => {
  it('keep every environment name of the deployment guide', () => {
    expect(STORAGE_ENV).toEqual({
      nodeId: 'DSM_STORAGE_NODE_ID',
      role: 'DSM_STORAGE_ROLE',
      host: 'DSM_STORAGE_HOST',
      port: 'DSM_STORAGE_PORT',
      advertise: 'DSM_STORAGE_ADVERTISE',
      dataDir: 'DSM_STORAGE_DATA_DIR',
      configDir: 'DSM_STORAGE_CONFIG_DIR',
      replicationFactor: 'DSM_STORAGE_REPLICATION_FACTOR',
      restoreFrom: 'DSM_STORAGE_RESTORE_FROM',
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
    });
  });

  it('keep the defaults (the node id from the host name) and the run-time keys', () => {
    expect(storageDefaults('Storage_0.Local')).toEqual({
      nodeId: 'storage-0.local',
      role: 'primary',
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
      logLevel: 'info',
      cryptoBackend: 'default',
    });
    expect(nodeIdOf('--')).toBe('storage');
    expect(STORAGE_RUNTIME_KEYS).toEqual(['logLevel']);
  });

  it('load from the environment that storageEnv writes', () => {
    const env = storageEnv({ nodeId: 'storage-1', syncWith: ['127.0.0.1:1'], replicationFactor: 3 });
    expect(env).toEqual({
      DSM_STORAGE_NODE_ID: 'storage-1',
      DSM_STORAGE_SYNC_WITH: '127.0.0.1:1',
      DSM_STORAGE_REPLICATION_FACTOR: '3',
    });
    expect(loadStorageConfig({ ...env, DSM_STORAGE_CONFIG_DIR: '/nonexistent-dsm' })).toMatchObject({
      nodeId: 'storage-1',
      syncWith: ['127.0.0.1:1'],
      replicationFactor: 3,
      port: 8765,
    });
  });

  it('accept in an admin change only the log level', () => {
    expect(parseAdminChanges(storageConfigSchema, { logLevel: 'error' })).toEqual({ logLevel: 'error' });
    expect(() => parseAdminChanges(storageConfigSchema, { logLevel: 'loud' })).toThrow(ConfigError);
    expect(() => parseAdminChanges(storageConfigSchema, { replicationFactor: 3 })).toThrow(
      'replicationFactor: not a setting changeable at run time',
    );
  });
});

describe('files generated from the storage settings', () => {
  // A failure shows the difference: `npm run generate` rewrites the file after an intended change.
  it('config.schema.json', () => {
    const file = 'workloads/storage/config.schema.json';
    const committed = readFileSync(join(root, file), 'utf8');
    expect({ file, text: committed }).toEqual({ file, text: formatJson(storageConfigJsonSchema()) });
    const schema = JSON.parse(committed) as { properties: Record<string, Record<string, unknown>> };
    expect(schema.properties.peerTokenFile).toMatchObject({
      'x-env': 'DSM_STORAGE_PEER_TOKEN_FILE',
      'x-secret-file': true,
    });
    expect(schema.properties.nodeId).not.toHaveProperty('default');
  });

  it('the configuration table of README.md', () => {
    const file = 'workloads/storage/README.md';
    const committed = readFileSync(join(root, file), 'utf8');
    expect({ file, text: committed }).toEqual({
      file,
      text: replaceSection(committed, 'config', configTable(storageConfigSchema)),
    });
  });
});

describe('@dsm/storage/config (built)', () => {
  it('loads neither rocksdb-native nor express', () => {
    const script = `
import { registerHooks } from 'node:module';
const urls = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); urls.push(r.url); return r; } });
await import(process.argv[1]);
process.stdout.write(JSON.stringify(urls));`;
    const loaded = (specifier: string): string[] => {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, specifier], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (child.status !== 0) throw new Error(`node failed to import ${specifier}: ${child.stderr}`);
      return (JSON.parse(child.stdout) as string[]).filter((url) =>
        /\/node_modules\/(rocksdb-native|express|pino-http)\//.test(url),
      );
    };
    // The detector sees them where they are loaded (the package entry point), and not through ./config.
    expect(loaded('@dsm/storage').length).toBeGreaterThan(0);
    expect(loaded('@dsm/storage/config')).toEqual([]);
  });
});
