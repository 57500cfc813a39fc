// Every pod template of every example meets the Pod Security Standard "restricted" (and our hardening), and
// the checker proves it could tell: each rule fires on a pod that breaks it.
import { describe, expect, it } from '@jest/globals';
import { desiredObjects, podSecurityProblems } from '@dsm/cdk8s';
import type { PodSpecLike } from '../src/pss.js';
import { ALL_CAPABILITIES, EXAMPLES, exampleCluster, podTemplateOf } from './helpers.js';

const GOOD: PodSpecLike = {
  automountServiceAccountToken: false,
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'app',
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      },
    },
  ],
  volumes: [{ name: 'tmp', emptyDir: {} }],
};

const container = (sc: Record<string, unknown>) => ({
  ...GOOD,
  containers: [{ name: 'app', securityContext: { ...GOOD.containers![0]!.securityContext, ...sc } }],
});

describe('podSecurityProblems', () => {
  it('passes a restricted pod', () => {
    expect(podSecurityProblems(GOOD)).toEqual([]);
  });

  it.each<[string, PodSpecLike]>([
    ['hostNamespaces', { ...GOOD, hostNetwork: true }],
    ['hostNamespaces', { ...GOOD, hostPID: true }],
    ['hostPathVolumes', { ...GOOD, volumes: [{ name: 'h', hostPath: { path: '/' } }] }],
    ['volumeTypes', { ...GOOD, volumes: [{ name: 'n', nfs: { server: 'x', path: '/' } }] }],
    ['privileged', container({ privileged: true })],
    ['allowPrivilegeEscalation', container({ allowPrivilegeEscalation: true })],
    ['allowPrivilegeEscalation', container({ allowPrivilegeEscalation: undefined })],
    ['runAsNonRoot', { ...GOOD, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }],
    ['runAsUser', container({ runAsUser: 0 })],
    ['seccomp', container({ seccompProfile: { type: 'Unconfined' } })],
    ['seccomp', { ...GOOD, securityContext: { runAsNonRoot: true } }],
    ['capabilities', container({ capabilities: { drop: ['NET_RAW'] } })],
    ['capabilities', container({ capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } })],
    ['hostPorts', { ...GOOD, containers: [{ ...GOOD.containers![0]!, ports: [{ hostPort: 80 }] }] }],
    ['procMount', container({ procMount: 'Unmasked' })],
    ['seLinux', container({ seLinuxOptions: { user: 'root' } })],
    ['appArmor', container({ appArmorProfile: { type: 'Unconfined' } })],
    [
      'sysctls',
      { ...GOOD, securityContext: { ...GOOD.securityContext, sysctls: [{ name: 'kernel.msgmax' }] } },
    ],
    ['dsm:readOnlyRootFilesystem', container({ readOnlyRootFilesystem: false })],
    ['dsm:serviceAccountToken', { ...GOOD, automountServiceAccountToken: undefined }],
  ])('fires %s', (rule, pod) => {
    const problems = podSecurityProblems(pod);
    expect(problems.some((p) => p.startsWith(`${rule} (`))).toBe(true);
    // A hostPath volume breaks two rules (hostPathVolumes of baseline, volumeTypes of restricted).
    const others = problems.filter((p) => !p.startsWith(`${rule} (`));
    expect(others.every((p) => rule === 'hostPathVolumes' && p.startsWith('volumeTypes ('))).toBe(true);
  });

  it('allows NET_BIND_SERVICE, the one capability the standard lets a pod add', () => {
    expect(
      podSecurityProblems(container({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } })),
    ).toEqual([]);
  });
});

describe('every pod of every example', () => {
  it.each(EXAMPLES)('%s: restricted', (example) => {
    const objects = desiredObjects(exampleCluster(example), { capabilities: ALL_CAPABILITIES });
    const pods = objects.flatMap((o) => {
      const template = podTemplateOf(o);
      return template === undefined ? [] : [[o.metadata.name, template.spec] as const];
    });
    expect(pods.length).toBeGreaterThanOrEqual(2);
    for (const [name, spec] of pods)
      expect([name, podSecurityProblems(spec as PodSpecLike)]).toEqual([name, []]);
  });
});
