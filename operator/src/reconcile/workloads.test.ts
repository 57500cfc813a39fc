import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import {
  deploymentRolledOut,
  podReady,
  statefulSetPods,
  statefulSetRolledOut,
  templateVersion,
} from './workloads.js';

const pod = (name: string, revision: string, ready: boolean, phase = 'Running'): V1Pod => ({
  metadata: { name, labels: { 'controller-revision-hash': revision } },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const sts = (status: V1StatefulSet['status'], generation = 2): V1StatefulSet => ({
  metadata: { generation },
  spec: { replicas: 2, serviceName: 'x', selector: {}, template: {} },
  status,
});

describe('workload facts', () => {
  it('pod readiness is the Ready condition', () => {
    expect(podReady(pod('a', 'r', true))).toBe(true);
    expect(podReady(pod('a', 'r', false))).toBe(false);
    expect(podReady({ metadata: { name: 'a' } })).toBe(false);
    expect(podReady(undefined)).toBe(false);
  });

  it('version from the template label, else the image tag', () => {
    const t = (labels: Record<string, string> | undefined, image?: string): V1StatefulSet => ({
      spec: {
        selector: {},
        serviceName: '',
        template: { metadata: { labels }, spec: { containers: [{ name: 'c', image }] } },
      },
    });
    expect(templateVersion(t({ 'app.kubernetes.io/version': '1.2.0' }, 'dsm-core:9'))).toBe('1.2.0');
    expect(templateVersion(t(undefined, 'registry:5000/dsm/dsm-core:1.3.0'))).toBe('1.3.0');
    expect(templateVersion(t(undefined, 'registry:5000/dsm/dsm-core'))).toBeUndefined();
    expect(templateVersion(undefined)).toBeUndefined();
  });

  it('StatefulSet pods by ordinal: missing, terminating, pending, updated', () => {
    const terminating = pod('s-1', 'r2', true);
    terminating.metadata!.deletionTimestamp = new Date();
    const facts = statefulSetPods(
      sts({ replicas: 2, updateRevision: 'r2' }),
      [pod('s-0', 'r1', false, 'Pending'), terminating, pod('other-0', 'r2', true)],
      's',
      3,
    );
    expect(facts).toEqual([
      { name: 's-0', ordinal: 0, exists: true, ready: false, updated: false, state: 'Pending' },
      { name: 's-1', ordinal: 1, exists: false, ready: false, updated: true, state: 'terminating' },
      { name: 's-2', ordinal: 2, exists: false, ready: false, updated: false, state: 'missing' },
    ]);
  });

  it('a StatefulSet has rolled out once observed, one revision, all updated', () => {
    const done = {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      currentRevision: 'r2',
      updateRevision: 'r2',
    };
    expect(statefulSetRolledOut(sts(done))).toBe(true);
    expect(statefulSetRolledOut(sts({ ...done, observedGeneration: 1 }))).toBe(false);
    expect(statefulSetRolledOut(sts({ ...done, currentRevision: 'r1' }))).toBe(false);
    expect(statefulSetRolledOut(sts({ ...done, updatedReplicas: 1 }))).toBe(false);
    expect(statefulSetRolledOut(undefined)).toBe(false);
  });

  it('a Deployment has rolled out once observed with no old pods left', () => {
    const d = (status: object) => ({
      metadata: { generation: 1 },
      spec: { replicas: 1, selector: {}, template: {} },
      status,
    });
    expect(deploymentRolledOut(d({ observedGeneration: 1, replicas: 1, updatedReplicas: 1 }))).toBe(true);
    expect(deploymentRolledOut(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 1 }))).toBe(false);
    expect(deploymentRolledOut(d({ observedGeneration: 0, replicas: 1, updatedReplicas: 1 }))).toBe(false);
  });
});
