import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  loadConfig,
  parseConfigValue,
  readSecretFile,
  readSecretFromEnv,
  saveConfigChanges,
  writeFileAtomic,
} from './config.js';

const schema = z.object({
  logLevel: z.enum(['debug', 'info', 'warn']).default('info'),
  cacheSize: z.number().int().min(1),
  connectPeers: z.array(z.url()).default([]),
  metrics: z.boolean().default(true),
  storage: z.object({ nodeId: z.string().min(1), replicationFactor: z.number().int().min(1).default(2) }),
});

const names = {
  logLevel: 'DSM_LOG_LEVEL',
  cacheSize: 'DSM_CACHE_SIZE',
  connectPeers: 'DSM_CONNECT_PEERS',
  metrics: 'DSM_METRICS',
  'storage.nodeId': 'DSM_STORAGE_NODE_ID',
  'storage.replicationFactor': 'DSM_STORAGE_REPLICATION_FACTOR',
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dsm-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults < file < env < persisted', async () => {
    const file = join(dir, 'config.json');
    const persisted = join(dir, 'data', 'runtime-config.json');
    await writeFile(
      file,
      JSON.stringify({ cacheSize: 10, logLevel: 'warn', storage: { nodeId: 'from-file' } }),
    );
    await writeFileAtomic(persisted, JSON.stringify({ cacheSize: 30 }));
    const vars = { DSM_CONFIG: file, DSM_CACHE_SIZE: '20', DSM_STORAGE_REPLICATION_FACTOR: '3' };

    const config = loadConfig(schema, {
      defaults: { cacheSize: 5, logLevel: 'debug' },
      env: { names, vars },
      persisted,
    });
    expect(config).toEqual({
      logLevel: 'warn', // file beats defaults
      cacheSize: 30, // persisted beats env beats file
      connectPeers: [],
      metrics: true,
      storage: { nodeId: 'from-file', replicationFactor: 3 }, // env merges into the file's object
    });

    const withoutPersisted = loadConfig(schema, { defaults: { cacheSize: 5 }, env: { names, vars } });
    expect(withoutPersisted.cacheSize).toBe(20);
  });

  it('coerces numbers, booleans and comma lists from env strings', () => {
    const config = loadConfig(schema, {
      env: {
        names,
        vars: {
          DSM_CACHE_SIZE: ' 64 ',
          DSM_METRICS: 'off',
          DSM_CONNECT_PEERS: 'http://a:8765, http://b:8765,',
          DSM_STORAGE_NODE_ID: 'node-1',
        },
      },
    });
    expect(config.cacheSize).toBe(64);
    expect(config.metrics).toBe(false);
    expect(config.connectPeers).toEqual(['http://a:8765', 'http://b:8765']);
  });

  it('treats an empty env var as unset', () => {
    const config = loadConfig(schema, {
      defaults: { cacheSize: 7 },
      env: { names, vars: { DSM_CACHE_SIZE: '', DSM_STORAGE_NODE_ID: 'n' } },
    });
    expect(config.cacheSize).toBe(7);
  });

  it('names the key, the env var and the expected form of a value that does not parse', () => {
    const err = configError(() =>
      loadConfig(schema, { env: { names, vars: { DSM_CACHE_SIZE: 'lots', DSM_METRICS: 'maybe' } } }),
    );
    expect(err.code).toBe('E_CONFIG');
    expect(err.problems).toEqual([
      { key: 'cacheSize', source: 'env DSM_CACHE_SIZE', expected: 'expected a number, got "lots"' },
      { key: 'metrics', source: 'env DSM_METRICS', expected: 'expected true or false, got "maybe"' },
    ]);
    expect(err.message).toContain('cacheSize (env DSM_CACHE_SIZE): expected a number');
  });

  it('reports schema violations with the layer that supplied the value', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ logLevel: 'loud', storage: { nodeId: 'n' } }));
    const err = configError(() =>
      loadConfig(schema, {
        file,
        env: { names, vars: { DSM_CACHE_SIZE: '0', DSM_CONNECT_PEERS: 'not a url' } },
      }),
    );
    const byKey = Object.fromEntries(err.problems.map((p) => [p.key, p]));
    expect(byKey.logLevel?.source).toBe(`file ${file}`);
    expect(byKey.logLevel?.expected).toContain('"debug"|"info"|"warn"');
    expect(byKey.cacheSize?.source).toBe('env DSM_CACHE_SIZE');
    expect(byKey.cacheSize?.expected).toContain('>=1');
    expect(byKey['connectPeers.0']?.source).toBe('env DSM_CONNECT_PEERS');
  });

  it('says which env var sets a missing required key', () => {
    const err = configError(() =>
      loadConfig(schema, { defaults: { cacheSize: 1 }, env: { names, vars: {} } }),
    );
    expect(err.problems).toEqual([expect.objectContaining({ key: 'storage', source: 'not set' })]);
    const nested = configError(() =>
      loadConfig(schema, { defaults: { cacheSize: 1, storage: {} }, env: { names, vars: {} } }),
    );
    expect(nested.problems).toEqual([
      expect.objectContaining({ key: 'storage.nodeId', source: 'not set, env DSM_STORAGE_NODE_ID' }),
    ]);
  });

  it('reads the file named by DSM_CONFIG and rejects unreadable or non-object files', async () => {
    const file = join(dir, 'c.json');
    await writeFile(file, JSON.stringify({ cacheSize: 9, storage: { nodeId: 'x' } }));
    expect(loadConfig(schema, { env: { names, vars: { DSM_CONFIG: file } } }).cacheSize).toBe(9);

    await writeFile(file, '{ "cacheSize": ');
    expect(configError(() => loadConfig(schema, { file })).problems[0]).toMatchObject({
      key: 'DSM_CONFIG',
      source: `file ${file}`,
    });
    await writeFile(file, '[1, 2]');
    expect(configError(() => loadConfig(schema, { file })).problems[0]?.expected).toBe('a JSON object');
    expect(
      configError(() => loadConfig(schema, { file: join(dir, 'missing.json') })).problems[0]?.expected,
    ).toContain('ENOENT');
  });

  it('reports unknown keys of a strict schema', () => {
    const strict = z.strictObject({ a: z.number().default(1) });
    const err = configError(() => loadConfig(strict, { defaults: { b: 2 } as never }));
    expect(err.problems).toEqual([{ key: 'b', expected: 'no such config key', source: 'default' }]);
  });

  it('refuses an env mapping for a key the schema does not have (a programming error)', () => {
    expect(() => loadConfig(schema, { env: { names: { nope: 'DSM_NOPE' }, vars: {} } })).toThrow(
      /unknown config key "nope"/,
    );
  });

  it('does not let a config file pollute Object.prototype', async () => {
    const file = join(dir, 'evil.json');
    await writeFile(file, '{"__proto__": {"polluted": true}, "cacheSize": 1, "storage": {"nodeId": "n"}}');
    loadConfig(schema, { file });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('saveConfigChanges', () => {
  it('validates against the whole config, persists atomically and survives a reload', async () => {
    const persisted = join(dir, 'data', 'runtime.json');
    const sources = {
      defaults: { cacheSize: 4, storage: { nodeId: 'n' } },
      env: { names, vars: {} },
      persisted,
    };

    const updated = await saveConfigChanges(schema, sources, { cacheSize: 128, logLevel: 'debug' });
    expect(updated.cacheSize).toBe(128);
    expect(JSON.parse(await readFile(persisted, 'utf8'))).toEqual({ cacheSize: 128, logLevel: 'debug' });
    expect(loadConfig(schema, sources)).toMatchObject({ cacheSize: 128, logLevel: 'debug' });
    // no temp files left behind
    expect(await readdir(join(dir, 'data'))).toEqual(['runtime.json']);

    await expect(saveConfigChanges(schema, sources, { cacheSize: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(saveConfigChanges(schema, sources, { nope: 1 })).rejects.toThrow(
      /nope \(admin change\): a known config key/,
    );
    expect(JSON.parse(await readFile(persisted, 'utf8'))).toEqual({ cacheSize: 128, logLevel: 'debug' });

    const reset = await saveConfigChanges(schema, sources, { cacheSize: undefined });
    expect(reset.cacheSize).toBe(4);
  });

  it('serializes concurrent changes so none is lost', async () => {
    const persisted = join(dir, 'runtime.json');
    const sources = { defaults: { cacheSize: 1, storage: { nodeId: 'n' } }, persisted };
    await Promise.all([
      saveConfigChanges(schema, sources, { cacheSize: 2 }),
      saveConfigChanges(schema, sources, { logLevel: 'warn' }),
      saveConfigChanges(schema, sources, { 'storage.replicationFactor': 5 }),
    ]);
    expect(JSON.parse(await readFile(persisted, 'utf8'))).toEqual({
      cacheSize: 2,
      logLevel: 'warn',
      storage: { replicationFactor: 5 },
    });
  });
});

describe('parseConfigValue', () => {
  it('coerces a string the way the schema wants it', () => {
    expect(parseConfigValue(schema, 'cacheSize', '12')).toBe(12);
    expect(parseConfigValue(schema, 'storage.replicationFactor', '3')).toBe(3);
    expect(parseConfigValue(schema, 'logLevel', 'debug')).toBe('debug');
    expect(() => parseConfigValue(schema, 'cacheSize', 'x')).toThrow(ConfigError);
    expect(() => parseConfigValue(schema, 'storage.unknown', '1')).toThrow(/a known config key/);
  });
});

describe('secrets', () => {
  it('reads a secret file without its trailing newline', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 's3cret value\r\n');
    expect(readSecretFile(file)).toBe('s3cret value');
  });

  it('refuses empty or missing secret files without echoing content', async () => {
    const file = join(dir, 'empty');
    await writeFile(file, '\n');
    expect(configError(() => readSecretFile(file)).message).toContain('non-empty secret');
    expect(
      configError(() => readSecretFile(join(dir, 'none'), 'DSM_ADMIN_TOKEN_FILE')).problems[0],
    ).toMatchObject({
      key: 'DSM_ADMIN_TOKEN_FILE',
      expected: expect.stringContaining('ENOENT') as unknown as string,
    });
  });

  it('follows the *_FILE convention and refuses the plain variable', async () => {
    const file = join(dir, 'key');
    await writeFile(file, 'k3y\n');
    expect(readSecretFromEnv('DSM_KEYSTORE_KEY', { DSM_KEYSTORE_KEY_FILE: file })).toBe('k3y');
    expect(readSecretFromEnv('DSM_KEYSTORE_KEY', {})).toBeUndefined();
    const err = configError(() => readSecretFromEnv('DSM_KEYSTORE_KEY', { DSM_KEYSTORE_KEY: 'plain' }));
    expect(err.message).toContain('DSM_KEYSTORE_KEY_FILE');
    expect(err.message).not.toContain('plain');
  });
});

describe('writeFileAtomic', () => {
  it('replaces the whole file', async () => {
    const file = join(dir, 'nested', 'f.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'nested'))).toEqual(['f.json']);
  });
});
