import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, loadConfig, parseAdminChanges } from './config.js';
import {
  adminChangesSchema,
  carriedOptionalSetting,
  carriedSetting,
  configJsonSchema,
  configTable,
  defaultsOf,
  envNamesOf,
  formatJson,
  formOf,
  kebabCase,
  pickSettings,
  replaceSection,
  reportedKeysOf,
  runtimeKeysOf,
  setting,
  settingsOf,
  toEnvironment,
} from './settings.js';

const peers = z.array(z.string().min(3));

const schema = z.object({
  host: setting(z.string().min(1), { env: 'X_HOST', default: '0.0.0.0', description: 'Address' }),
  cacheSize: setting(z.number().int().min(0).max(100), {
    env: 'X_CACHE_SIZE',
    default: 10,
    runtime: true,
    description: 'Entries kept',
  }),
  pollMs: setting(z.number().int().min(50).max(1000), {
    env: 'X_POLL_MS',
    default: 100,
    runtime: true,
    description: 'Poll interval',
  }),
  level: setting(z.enum(['info', 'debug']), {
    env: 'X_LEVEL',
    default: 'info',
    reported: true,
    description: 'Level',
  }),
  // One schema backs two settings: each gets its own metadata.
  syncWith: setting(peers, { env: 'X_SYNC_WITH', default: [], description: 'Peers' }),
  connectPeers: setting(peers, { env: 'X_CONNECT_PEERS', default: [], description: 'More peers' }),
  nodeId: setting(z.string(), {
    env: 'X_NODE_ID',
    default: () => 'computed',
    defaultDoc: 'the host name',
    description: 'Name',
  }),
  tokenFile: setting(z.string().optional(), { env: 'X_TOKEN_FILE', secretFile: true, description: 'Token' }),
  keyFile: setting(z.string().min(1), { env: 'X_KEY_FILE', secretFile: true, description: 'Key' }),
  bridge: z.object({
    rpc: setting(z.string(), { env: 'X_BRIDGE_RPC', default: 'http://x', description: 'RPC' }),
  }),
});

describe('setting metadata', () => {
  it('lists every setting in declaration order, nested keys dotted', () => {
    expect(settingsOf(schema).map((s) => s.key)).toEqual([
      'host',
      'cacheSize',
      'pollMs',
      'level',
      'syncWith',
      'connectPeers',
      'nodeId',
      'tokenFile',
      'keyFile',
      'bridge.rpc',
    ]);
    expect(envNamesOf(schema)).toMatchObject({ syncWith: 'X_SYNC_WITH', connectPeers: 'X_CONNECT_PEERS' });
    expect(envNamesOf(schema)['bridge.rpc']).toBe('X_BRIDGE_RPC');
  });

  it('derives the defaults layer, computing computed defaults', () => {
    expect(defaultsOf(schema)).toEqual({
      host: '0.0.0.0',
      cacheSize: 10,
      pollMs: 100,
      level: 'info',
      syncWith: [],
      connectPeers: [],
      nodeId: 'computed',
      bridge: { rpc: 'http://x' },
    });
  });

  it('derives the run-time and reported keys', () => {
    expect(runtimeKeysOf(schema)).toEqual(['cacheSize', 'pollMs']);
    expect(reportedKeysOf(schema)).toEqual(['cacheSize', 'pollMs', 'level']);
    expect(
      pickSettings({ cacheSize: 1, pollMs: 2, level: 'info', host: 'h' }, ['level', 'cacheSize']),
    ).toEqual({
      level: 'info',
      cacheSize: 1,
    });
  });

  it('feeds loadConfig: defaults < env, by the derived names', () => {
    const config = loadConfig(schema, {
      defaults: defaultsOf(schema),
      env: {
        names: envNamesOf(schema),
        vars: { X_CACHE_SIZE: '20', X_KEY_FILE: '/k', X_BRIDGE_RPC: 'http://y' },
      },
    });
    expect(config).toMatchObject({
      cacheSize: 20,
      keyFile: '/k',
      bridge: { rpc: 'http://y' },
      nodeId: 'computed',
    });
  });

  it('refuses bad declarations', () => {
    expect(() => setting(z.string(), { env: 'lower', description: 'x' })).toThrow('UPPER_SNAKE_CASE');
    expect(() => setting(z.string(), { env: 'X_TOKEN', secretFile: true, description: 'x' })).toThrow(
      '*_FILE',
    );
    expect(() => setting(z.string(), { env: 'X', default: () => 'a', description: 'x' })).toThrow(
      'defaultDoc',
    );
    expect(() => settingsOf(z.object({ bare: z.string() }))).toThrow('"bare" is not declared with setting()');
    const twice = z.object({
      a: setting(z.string(), { env: 'X_SAME', description: 'a' }),
      b: setting(z.string(), { env: 'X_SAME', description: 'b' }),
    });
    expect(() => settingsOf(twice)).toThrow('share env name X_SAME');
  });
});

describe('admin changes', () => {
  it('is a strict partial object of exactly the run-time keys, with the same bounds', () => {
    const body = adminChangesSchema(schema);
    expect(body.parse({})).toEqual({});
    expect(body.parse({ cacheSize: 5 })).toEqual({ cacheSize: 5 });
    expect(body.safeParse({ cacheSize: 101 }).success).toBe(false);
    expect(body.safeParse({ pollMs: 5 }).success).toBe(false);
    expect(body.safeParse({ host: 'x' }).success).toBe(false);
  });

  it('refuses an unknown key as E_BAD_REQUEST and a bad value as E_CONFIG naming the key', () => {
    expect(parseAdminChanges(schema, undefined)).toEqual({});
    expect(parseAdminChanges(schema, { pollMs: 200 })).toEqual({ pollMs: 200 });
    const unknown = (() => {
      try {
        parseAdminChanges(schema, { host: 'x' });
      } catch (e) {
        return e as { code: string; details: Record<string, unknown> };
      }
    })();
    expect(unknown).toMatchObject({ code: 'E_BAD_REQUEST', details: { field: 'host' } });
    expect(() => parseAdminChanges(schema, [1])).toThrow('expected a JSON object');
    let bad: unknown;
    try {
      parseAdminChanges(schema, { pollMs: 5, cacheSize: 'many' });
    } catch (e) {
      bad = e;
    }
    expect(bad).toBeInstanceOf(ConfigError);
    expect((bad as ConfigError).problems.map((p) => [p.key, p.source])).toEqual([
      ['cacheSize', 'admin change'],
      ['pollMs', 'admin change'],
    ]);
  });
});

describe('derived forms', () => {
  it('names flags and environments', () => {
    expect(kebabCase('policyCacheSize')).toBe('policy-cache-size');
    expect(kebabCase('receivePollMs')).toBe('receive-poll-ms');
    expect(kebabCase('bridge.ethereumRpc')).toBe('bridge-ethereum-rpc');
    expect(toEnvironment(schema, { cacheSize: 5, syncWith: ['a:1', 'b:2'], level: undefined })).toEqual({
      X_CACHE_SIZE: '5',
      X_SYNC_WITH: 'a:1,b:2',
    });
    expect(() => toEnvironment(schema, { cachesize: 5 })).toThrow('no setting "cachesize"');
  });

  it('reads the form of a field', () => {
    expect(formOf(z.number().int().min(0).max(5))).toEqual({ kind: 'integer', minimum: 0, maximum: 5 });
    expect(formOf(z.number().int())).toEqual({ kind: 'integer' });
    expect(formOf(z.boolean())).toEqual({ kind: 'boolean' });
    expect(formOf(z.enum(['a', 'b']).optional())).toEqual({ kind: 'enum', values: ['a', 'b'] });
    expect(formOf(peers)).toEqual({ kind: 'list', item: { kind: 'string' } });
  });
});

describe('generated documents', () => {
  it('a JSON Schema with sorted keys, descriptions, defaults and x-env, x-runtime, x-secret-file', () => {
    const json = configJsonSchema(schema, { title: 'X' }) as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
      title: string;
    };
    expect(json.title).toBe('X');
    expect(Object.keys(json.properties)).toEqual(Object.keys(json.properties).sort());
    expect(json.properties.cacheSize).toEqual({
      default: 10,
      description: 'Entries kept',
      maximum: 100,
      minimum: 0,
      type: 'integer',
      'x-env': 'X_CACHE_SIZE',
      'x-runtime': true,
      'x-secret-file': false,
    });
    expect(json.properties.nodeId).toMatchObject({ description: 'Name (default: the host name)' });
    expect(json.properties.nodeId).not.toHaveProperty('default');
    expect(json.properties.tokenFile).toMatchObject({ 'x-secret-file': true });
    // Required: what has no default and no meaning when unset.
    expect(json.required).toEqual(['keyFile']);
    expect(formatJson(json)).toBe(formatJson(configJsonSchema(schema, { title: 'X' })));
  });

  it('lays JSON out as prettier does', () => {
    expect(formatJson({ b: [1, 2], a: { c: [] }, d: [{ e: 1 }] })).toBe(
      '{\n  "b": [1, 2],\n  "a": {\n    "c": []\n  },\n  "d": [\n    {\n      "e": 1\n    }\n  ]\n}\n',
    );
    const long = Array.from({ length: 30 }, (_, i) => `item-${i}`);
    expect(formatJson({ long }).split('\n')).toHaveLength(long.length + 5);
  });

  it('a README table, one row per setting', () => {
    const table = configTable(schema).split('\n');
    expect(table).toHaveLength(2 + settingsOf(schema).length);
    expect(table).toContain(
      '| `cacheSize` | `X_CACHE_SIZE` | `10` | integer 0 to 100 | yes | Entries kept |',
    );
    expect(table).toContain('| `keyFile` | `X_KEY_FILE` | **required** | file path (secret) |  | Key |');
    expect(table).toContain('| `nodeId` | `X_NODE_ID` | the host name | text |  | Name |');
  });

  it('replaces what lies between markers', () => {
    const text = 'a\n<!-- t:start -->\nold\n<!-- t:end -->\nb\n';
    expect(replaceSection(text, 't', 'new')).toBe('a\n<!-- t:start -->\nnew\n<!-- t:end -->\nb\n');
    expect(replaceSection(replaceSection(text, 't', 'new'), 't', 'new')).toBe(
      replaceSection(text, 't', 'new'),
    );
    expect(() => replaceSection('none', 't', 'x')).toThrow('markers');
  });
});

describe('carried settings', () => {
  it("keep the setting's bounds, default and description (naming its env) in another schema", () => {
    const carried = z.object({
      cacheSize: carriedSetting(schema, 'cacheSize'),
      token: carriedOptionalSetting(schema, 'tokenFile'),
    });
    expect(carried.parse({})).toEqual({ cacheSize: 10 });
    expect(carried.safeParse({ cacheSize: 101 }).success).toBe(false);
    expect(carried.shape.cacheSize.description).toBe("Entries kept (the service's X_CACHE_SIZE).");
    expect(z.toJSONSchema(carried).properties?.cacheSize).toMatchObject({
      default: 10,
      minimum: 0,
      maximum: 100,
    });
  });

  it('refuse a computed default, and a key that is not a setting', () => {
    expect(() => carriedSetting(schema, 'nodeId')).toThrow(/no constant default/);
    expect(() => carriedSetting(schema, 'tokenFile')).toThrow(/no constant default/);
    expect(() => carriedSetting(schema, 'bridge')).toThrow(/not a setting\(\) field/);
  });
});
