// The CRD: a structural schema (the checker proves it, and is proven to catch what it must), described
// everywhere, defaulting as zod does, with CEL rules that name real fields and read well.
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  CONDITION_TYPES,
  dsmClusterCrd,
  dsmClusterSpecSchema,
  dsmClusterStatusSchema,
  readyOf,
  specSchema,
  structuralProblems,
  type DSMClusterStatus,
} from '@dsm/cdk8s';
import type { JsonSchema } from '../src/schema/structural.js';
import { toStructural } from '../src/schema/structural.js';
import { EXAMPLES, exampleText } from './helpers.js';
import { parse } from 'yaml';

const crd = dsmClusterCrd() as unknown as {
  spec: {
    names: Record<string, unknown>;
    scope: string;
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchema };
      subresources: Record<string, unknown>;
      additionalPrinterColumns: { name: string; jsonPath: string }[];
    }[];
  };
};
const version = crd.spec.versions[0]!;
const root = version.schema.openAPIV3Schema;
const props = (node: JsonSchema) => node.properties as Record<string, JsonSchema>;

/** Kubernetes' structural defaulting: a missing field with a default gets it, then its own fields theirs. */
function applyDefaults(schema: JsonSchema, value: unknown): unknown {
  if (Array.isArray(value)) {
    return schema.items === undefined
      ? value
      : value.map((v) => applyDefaults(schema.items as JsonSchema, v));
  }
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (schema.properties !== undefined) {
    for (const [key, child] of Object.entries(props(schema))) {
      if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
      if (out[key] !== undefined) out[key] = applyDefaults(child, out[key]);
    }
  } else if (schema.additionalProperties !== undefined) {
    for (const key of Object.keys(out))
      out[key] = applyDefaults(schema.additionalProperties as JsonSchema, out[key]);
  }
  return out;
}

/** Every x-kubernetes-validations of the schema with the node it sits on. */
function rulesOf(
  node: JsonSchema,
  path = 'spec',
): { path: string; node: JsonSchema; rule: Record<string, string> }[] {
  const own = ((node['x-kubernetes-validations'] as Record<string, string>[] | undefined) ?? []).map(
    (rule) => ({
      path,
      node,
      rule,
    }),
  );
  const children = node.properties === undefined ? [] : Object.entries(props(node));
  return [...own, ...children.flatMap(([key, child]) => rulesOf(child, `${path}.${key}`))];
}

/** The schema node at a dotted path below `node` (undefined when a part is not a property). */
function nodeAt(node: JsonSchema, parts: string[]): JsonSchema | undefined {
  let current: JsonSchema | undefined = node;
  for (const part of parts) current = current?.properties === undefined ? undefined : props(current)[part];
  return current;
}

describe('dsmClusterCrd', () => {
  it('is dsmclusters.dsm.io, kind DSMCluster, short name dsm, namespaced, v1alpha1 served and stored', () => {
    expect(crd.spec.names).toMatchObject({ kind: 'DSMCluster', plural: 'dsmclusters', shortNames: ['dsm'] });
    expect(crd.spec.names.categories).toContain('dsm');
    expect(crd.spec.scope).toBe('Namespaced');
    expect([version.name, version.served, version.storage]).toEqual(['v1alpha1', true, true]);
  });

  it('has the status subresource and scales the storage nodes', () => {
    expect(version.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.storage.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
    // The paths name real fields.
    expect(nodeAt(root, ['spec', 'storage', 'replicas'])?.type).toBe('integer');
    expect(nodeAt(root, ['status', 'replicas'])?.type).toBe('integer');
    expect(nodeAt(root, ['status', 'selector'])?.type).toBe('string');
  });

  it('prints Ready, Core, Storage, Bridge, Version and Age from fields the status has', () => {
    const columns = version.additionalPrinterColumns;
    expect(columns.map((c) => c.name)).toEqual([
      'Ready',
      'Core',
      'Storage',
      'Bridge',
      'Version',
      'Phase',
      'Age',
    ]);
    for (const { jsonPath } of columns) {
      if (jsonPath.startsWith('.metadata') || jsonPath.includes('[?(')) continue;
      expect([jsonPath, nodeAt(root, jsonPath.slice(1).split('.'))?.type]).toEqual([jsonPath, 'string']);
    }
  });

  it('is structural, with a description on every property', () => {
    expect(structuralProblems(root)).toEqual([]);
  });

  it('requires only spec and spec.version; condition types key the conditions list', () => {
    expect(root.required).toEqual(['spec']);
    expect(props(root).spec!.required).toEqual(['version']);
    const conditions = nodeAt(root, ['status', 'conditions'])!;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
  });

  it('keeps no JSON Schema-only keyword and no preserve-unknown-fields in the status', () => {
    const text = JSON.stringify(root);
    for (const word of ['$schema', 'propertyNames', 'anyOf', '"additionalProperties":false']) {
      expect(text).not.toContain(word);
    }
    expect(JSON.stringify(props(root).status)).not.toContain('x-kubernetes-preserve-unknown-fields');
  });

  it('turns quantities into int-or-string nodes that keep their description and default', () => {
    expect(nodeAt(root, ['spec', 'storage', 'volume', 'size'])).toEqual({
      description: expect.stringContaining('Size of each pod'),
      default: '20Gi',
      'x-kubernetes-int-or-string': true,
    });
  });
});

describe('structuralProblems', () => {
  it.each<[string, JsonSchema, string]>([
    ['an untyped node', { type: 'object', properties: { a: { description: 'x' } } }, 'no type'],
    [
      'additionalProperties next to properties',
      { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
      'additionalProperties next to properties',
    ],
    ['anyOf', { type: 'object', anyOf: [] }, 'anyOf is not structural'],
    [
      'a property without description',
      { type: 'object', properties: { a: { type: 'string' } } },
      'no description',
    ],
    ['an array without items', { type: 'array' }, 'an array without items'],
    [
      'a list-map key that may be missing',
      {
        type: 'array',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        items: { type: 'object', properties: { type: { type: 'string', description: 'x' } } },
      },
      'must be required or defaulted',
    ],
  ])('finds %s', (_what, schema, problem) => {
    expect(structuralProblems(schema).join('\n')).toContain(problem);
  });

  it('toStructural refuses what it has no structural form for', () => {
    expect(() => toStructural({ type: 'object', oneOf: [] })).toThrow('no structural form for oneOf');
    expect(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'number' }] })).toThrow('anyOf');
  });
});

describe('the spec schema', () => {
  it('describes every field of the zod spec (kubectl explain teaches each)', () => {
    const json = z.toJSONSchema(dsmClusterSpecSchema, { io: 'input' }) as JsonSchema;
    const undescribed: string[] = [];
    const walk = (node: JsonSchema, path: string) => {
      for (const [key, child] of Object.entries((node.properties as Record<string, JsonSchema>) ?? {})) {
        if (typeof child.description !== 'string' || child.description.length < 8)
          undescribed.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
        if (child.items !== undefined) walk(child.items as JsonSchema, `${path}.${key}[]`);
      }
    };
    walk(json, 'spec');
    expect(undescribed).toEqual([]);
  });

  it.each([
    ['the smallest spec', { version: '0.1.0' }],
    [
      'a bridge',
      {
        version: '0.1.0',
        bridge: {
          enabled: true,
          rpcUrl: 'https://rpc.example',
          chainId: 5,
          contractAddress: `0x${'1'.repeat(40)}`,
          signerKeySecret: { name: 'evm' },
        },
      },
    ],
    ...EXAMPLES.map((e) => [e, (parse(exampleText(e)) as { spec: unknown }).spec] as const),
  ])('defaults %s as zod does', (_what, input) => {
    expect(applyDefaults(specSchema(), structuredClone(input))).toEqual(dsmClusterSpecSchema.parse(input));
  });
});

describe('CEL rules', () => {
  const all = rulesOf(props(root).spec!);
  const rootRules = (root['x-kubernetes-validations'] as Record<string, string>[]) ?? [];

  it('are there: cross-field checks, immutable fields, the version and the name', () => {
    expect(all.length).toBeGreaterThanOrEqual(12);
    expect(rootRules[0]!.rule).toContain('self.metadata.name.size() <= 40');
  });

  it('name only fields of the node they sit on, and fieldPaths that exist', () => {
    for (const { path, node, rule } of all) {
      for (const match of rule.rule!.matchAll(/\b(self|oldSelf)((?:\.[A-Za-z]+)+)/g)) {
        const parts = match[2]!.slice(1).split('.');
        expect([path, rule.rule, nodeAt(node, parts) !== undefined]).toEqual([path, rule.rule, true]);
      }
      if (rule.fieldPath !== undefined) {
        expect([
          path,
          rule.fieldPath,
          nodeAt(node, rule.fieldPath.slice(1).split('.')) !== undefined,
        ]).toEqual([path, rule.fieldPath, true]);
      }
    }
  });

  it('have balanced parentheses, call only functions Kubernetes CEL has, and messages of one line', () => {
    for (const text of [...all.map((r) => r.rule.rule!), ...rootRules.map((r) => r.rule!)]) {
      let depth = 0;
      for (const c of text.replace(/'[^']*'/g, "''")) {
        depth += c === '(' ? 1 : c === ')' ? -1 : 0;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
      for (const call of text.replace(/'[^']*'/g, "''").matchAll(/([A-Za-z_]+)\(/g)) {
        expect(['has', 'size', 'matches', 'string']).toContain(call[1]);
      }
    }
    for (const rule of [...all.map((r) => r.rule), ...rootRules]) {
      expect(rule.message).toMatch(/^[a-z].{20,300}$/);
      expect(rule.message).not.toContain('\n');
    }
  });

  it('use oldSelf only in transition rules, which zod (one object) cannot check', () => {
    const transition = all.filter(({ rule }) => rule.rule!.includes('oldSelf'));
    expect(transition.map(({ path, rule }) => `${path}: ${rule.fieldPath}`)).toEqual([
      'spec.core: .volume.storageClassName',
      'spec.core: .volume.size',
      'spec.storage: .volume.storageClassName',
      'spec.storage: .volume.size',
      'spec.bridge: .chainId',
      'spec.bridge: .volume.storageClassName',
    ]);
  });

  it.each([
    [
      { storage: { replicas: 2, replicationFactor: 3 } },
      'storage.replicationFactor',
      'must not exceed storage.replicas',
    ],
    [
      {
        bridge: {
          enabled: true,
          chainId: 1,
          contractAddress: `0x${'1'.repeat(40)}`,
          signerKeySecret: { name: 's' },
        },
      },
      'bridge',
      'exactly one of bridge.rpcUrl',
    ],
    [
      {
        bridge: {
          enabled: true,
          rpcUrl: 'https://x.example',
          chainId: 1,
          contractAddress: `0x${'1'.repeat(40)}`,
        },
      },
      'bridge.signerKeySecret',
      'needs bridge.signerKeySecret',
    ],
    [
      {
        bridge: {
          enabled: true,
          rpcUrl: 'https://x.example',
          contractAddress: `0x${'1'.repeat(40)}`,
          signerKeySecret: { name: 's' },
        },
      },
      'bridge.chainId',
      'needs bridge.chainId',
    ],
    [
      { bridge: { enabled: true, rpcUrl: 'https://x.example', chainId: 1, signerKeySecret: { name: 's' } } },
      'bridge.contractAddress',
      'needs bridge.contractAddress',
    ],
    [{ version: 'latest' }, 'version', 'not latest'],
  ])('the rules on one object are zod refinements too: %j', (spec, path, message) => {
    const result = dsmClusterSpecSchema.safeParse({ version: '0.1.0', ...spec });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues.some((i) => i.startsWith(`${path}: `) && i.includes(message))).toBe(true);
  });
});

describe('the status schema', () => {
  it('accepts a status the operator writes', () => {
    const status: DSMClusterStatus = {
      observedGeneration: 3,
      conditions: CONDITION_TYPES.map((type) => ({
        type,
        status: 'True',
        reason: 'AllReady',
        message: 'every pod is ready',
        observedGeneration: 3,
        lastTransitionTime: '2025-01-01T00:00:00Z',
      })),
      phase: 'Ready',
      version: '0.1.0',
      core: {
        replicas: 1,
        readyReplicas: 1,
        updatedReplicas: 1,
        ready: readyOf(1, 1),
        endpoints: ['devnet-core:7545'],
      },
      storage: { replicas: 2, readyReplicas: 2, updatedReplicas: 2, ready: '2/2', endpoints: [] },
      bridge: {
        enabled: false,
        replicas: 0,
        readyReplicas: 0,
        updatedReplicas: 0,
        ready: '0/0',
        endpoints: [],
      },
      replicas: 2,
      selector: 'dsm.io/cluster=devnet,app.kubernetes.io/component=storage',
      secrets: { adminToken: 'a', apiToken: 'b', keystoreKey: 'c' },
    };
    expect(dsmClusterStatusSchema.safeParse(status).error?.issues ?? []).toEqual([]);
    expect(applyDefaults(props(root).status!, status)).toEqual(status);
  });

  it('refuses a condition reason that is not CamelCase', () => {
    const bad = {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'all ready', message: '', lastTransitionTime: 'x' },
      ],
    };
    expect(dsmClusterStatusSchema.safeParse(bad).success).toBe(false);
  });
});
