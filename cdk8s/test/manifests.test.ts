// `npm run synth`: a DSMCluster file is checked field by field (errors name the field), and the static
// manifests are the generated Secrets followed by the desired objects, without owner (no DSMCluster exists).
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { manifestsYaml, parseClusterYaml, staticManifests } from '../src/manifests.js';
import { counterRandom, exampleText } from './helpers.js';

const problemsOf = (text: string, namespace?: string): string => {
  try {
    parseClusterYaml(text, 'x.yaml', namespace);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
};

describe('parseClusterYaml', () => {
  it('defaults the spec and the namespace', () => {
    const cluster = parseClusterYaml(exampleText('dsmcluster'), 'dsmcluster.yaml');
    expect(cluster.metadata).toEqual({ name: 'devnet', namespace: 'default' });
    expect(cluster.spec.core.volume).toEqual({ size: '10Gi', reclaimPolicy: 'Retain' });
  });

  it.each([
    [
      'a bad replication factor',
      'spec: { version: 1.0.0, storage: { replicationFactor: 40 } }',
      'spec.storage.replicationFactor:',
    ],
    [
      'an unknown field',
      'spec: { version: 1.0.0, storage: { replica: 3 } }',
      'spec.storage: Unrecognized key',
    ],
    ['no version', 'spec: {}', 'spec.version:'],
    [
      'a cross-field rule',
      'spec: { version: 1.0.0, storage: { replicas: 1, replicationFactor: 2 } }',
      'spec.storage.replicationFactor: storage.replicationFactor must not exceed',
    ],
    ['a bad name', 'spec: { version: 1.0.0 }', 'metadata.name must be at most 40'],
  ])('names the field of %s', (_what, spec, message) => {
    const name = _what === 'a bad name' ? 'Not_A_Name' : 'x';
    const text = `apiVersion: dsm.io/v1alpha1\nkind: DSMCluster\nmetadata: { name: ${name} }\n${spec}\n`;
    expect(problemsOf(text)).toContain(message);
  });

  it('refuses another kind, two documents and a namespace the flag contradicts', () => {
    expect(problemsOf('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n')).toContain(
      'kind: expected DSMCluster',
    );
    expect(problemsOf(`${exampleText('dsmcluster')}\n---\n${exampleText('dsmcluster')}`)).toContain(
      'exactly one',
    );
    const namespaced = exampleText('dsmcluster').replace('name: devnet', 'name: devnet\n  namespace: a');
    expect(problemsOf(namespaced, 'b')).toContain('--namespace says b');
  });
});

describe('staticManifests', () => {
  it('is the Secrets then the objects, none owned, as one YAML stream', () => {
    const cluster = parseClusterYaml(exampleText('dsmcluster'), 'dsmcluster.yaml', 'dsm');
    const objects = staticManifests(cluster, { random: counterRandom() });
    expect(objects.slice(0, 4).map((o) => o.metadata.name)).toEqual([
      'devnet-admin-token',
      'devnet-api-token',
      'devnet-keystore-key',
      'devnet-peer-token',
    ]);
    expect(objects.every((o) => o.metadata.ownerReferences === undefined)).toBe(true);
    expect(objects.map((o) => o.kind)).not.toContain('ServiceMonitor');
    const documents = parseAllDocuments(manifestsYaml(objects));
    expect(Array.isArray(documents) && documents.map((d) => d.toJS())).toEqual(objects);
  });

  it('generates different secrets at every run with real randomness', () => {
    const cluster = parseClusterYaml(exampleText('dsmcluster'), 'dsmcluster.yaml', 'dsm');
    const token = () => (staticManifests(cluster)[0]!.data as Record<string, string>).token;
    expect(token()).not.toBe(token());
    expect(Buffer.from(token()!, 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
  });
});
