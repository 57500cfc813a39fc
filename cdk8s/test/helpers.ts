// The examples as the operator receives them (spec defaulted, a uid once the apiserver stored them) and the
// pod specs of what desiredObjects makes of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DSMCluster, KubeObject } from '@dsm/cdk8s';
import { parseClusterYaml } from '../src/manifests.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const EXAMPLES = ['dsmcluster', 'dsmcluster-bridge', 'dsmcluster-production'] as const;
export type Example = (typeof EXAMPLES)[number];

export const examplePath = (example: Example) => join(REPO_ROOT, 'examples', `${example}.yaml`);
export const exampleText = (example: Example) => readFileSync(examplePath(example), 'utf8');

/** The example in namespace `dsm`, with a uid when `uid` (as the apiserver returns it). */
export function exampleCluster(example: Example, uid = true): DSMCluster {
  const cluster = parseClusterYaml(exampleText(example), example, 'dsm');
  return uid
    ? { ...cluster, metadata: { ...cluster.metadata, uid: `uid-of-${cluster.metadata.name}` } }
    : cluster;
}

export const ALL_CAPABILITIES = { serviceMonitor: true, prometheusRule: true } as const;

/** Deterministic "randomness": byte i of call n is (n * 31 + i) mod 256. */
export function counterRandom(): (bytes: number) => Buffer {
  let call = 0;
  return (bytes) => {
    call += 1;
    return Buffer.from(Array.from({ length: bytes }, (_, i) => (call * 31 + i) % 256));
  };
}

interface PodTemplate {
  spec: Record<string, unknown> & {
    containers: {
      name: string;
      env?: Record<string, unknown>[];
      volumeMounts?: { name: string; mountPath: string }[];
    }[];
  };
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** The pod template of a workload object, or undefined for other kinds. */
export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  if (object.kind === 'CronJob')
    return (object.spec as { jobTemplate: { spec: { template: PodTemplate } } }).jobTemplate.spec.template;
  if (object.kind !== 'StatefulSet' && object.kind !== 'Deployment') return undefined;
  return (object.spec as { template: PodTemplate }).template;
}

export const find = (objects: KubeObject[], kind: string, name: string): KubeObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};
