// The operator's derived values: the peer token it computes, and the pod annotation that rolls storage onto
// a recreated peer-token Secret. Both are inputs: the constructs stay pure.
import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, desiredObjects, generatedSecrets, type KubeObject } from '@dsm/cdk8s';
import { counterRandom, exampleCluster } from './helpers.js';

const cluster = exampleCluster('dsmcluster');
const capabilities = { serviceMonitor: false, prometheusRule: false };
const peerTokenOf = (secrets: KubeObject[]) => {
  const secret = secrets.find((s) => s.metadata.name === 'devnet-peer-token') as
    (KubeObject & { data: Record<string, string> }) | undefined;
  return secret && Buffer.from(secret.data.token!, 'base64').toString('utf8');
};
const storageTemplateAnnotations = (objects: KubeObject[]) =>
  (
    objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'devnet-storage') as unknown as {
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    }
  ).spec.template.metadata.annotations;

describe('derived secrets', () => {
  it('the peer-token Secret holds the derived value given; the other Secrets stay random', () => {
    const derived = generatedSecrets(cluster, counterRandom(), { peerToken: 'derived-peer-token' });
    const random = generatedSecrets(cluster, counterRandom());
    expect(peerTokenOf(derived)).toBe('derived-peer-token');
    expect(peerTokenOf(random)).toMatch(/^[0-9a-f]{64}$/);
    expect(derived.map((s) => s.metadata.name)).toEqual(random.map((s) => s.metadata.name));
    const admin = (s: KubeObject[]) =>
      JSON.stringify(s.find((o) => o.metadata.name === 'devnet-admin-token'));
    expect(admin(derived)).toBe(admin(random));
  });

  it('the same inputs give the same Secrets (pure)', () => {
    const once = generatedSecrets(cluster, counterRandom(), { peerToken: 't' });
    expect(generatedSecrets(cluster, counterRandom(), { peerToken: 't' })).toEqual(once);
  });

  it('peerTokenRevision annotates the storage pod template only, and is absent unless given', () => {
    const plain = desiredObjects(cluster, { capabilities });
    expect(storageTemplateAnnotations(plain)[ANNOTATIONS.peerTokenRevision]).toBeUndefined();
    const marked = desiredObjects(cluster, { capabilities, peerTokenRevision: 'uid-1' });
    expect(storageTemplateAnnotations(marked)[ANNOTATIONS.peerTokenRevision]).toBe('uid-1');
    // Nothing else changes: core's template does not roll with the storage peer token.
    const strip = (objects: KubeObject[]) =>
      JSON.stringify(
        objects.filter((o) => !(o.kind === 'StatefulSet' && o.metadata.name === 'devnet-storage')),
      );
    expect(strip(marked)).toBe(strip(plain));
  });
});
