/**
 * The harness itself: the control plane answers, namespaces enforce Pod Security "restricted",
 * kube-controller-manager runs the controllers the operator relies on (Deployment → ReplicaSet → Pod,
 * garbage collection by owner reference), and a pod marked ready by hand counts as ready.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  deleteNamespace,
  freshNamespace,
  kubeConfig,
  kubectl,
  refusal,
  setPodReady,
  waitFor,
} from './kube.js';

let namespace: string;
const config = kubeConfig();
const core = config.makeApiClient(k8s.CoreV1Api);
const apps = config.makeApiClient(k8s.AppsV1Api);

beforeAll(async () => {
  namespace = await freshNamespace('harness');
});
afterAll(async () => {
  await deleteNamespace(namespace);
});

const restrictedPod = (name: string): k8s.V1Pod => ({
  metadata: { name },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'c',
        image: 'dsm-core:test',
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
      },
    ],
  },
});

test('the apiserver is the pinned release and kubectl talks to it', async () => {
  const { stdout } = await kubectl(['version', '-o', 'json']);
  expect(JSON.parse(stdout).serverVersion.gitVersion).toBe('v1.36.3');
});

test('a test namespace refuses a pod that breaks Pod Security "restricted", and admits one that meets it', async () => {
  const bad = restrictedPod('loose');
  bad.spec!.containers[0]!.securityContext = { allowPrivilegeEscalation: true };
  const refused = await refusal(core.createNamespacedPod({ namespace, body: bad }));
  expect(refused.code).toBe(403);
  expect(refused.message).toMatch(
    /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/,
  );
  await core.createNamespacedPod({ namespace, body: restrictedPod('fine') });
});

test('kube-controller-manager turns a Deployment into a pod, which counts once marked ready', async () => {
  const labels = { app: 'harness' };
  const template = restrictedPod('x');
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'harness' },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: template.spec! },
      },
    },
  });
  const pod = await waitFor('the Deployment pod', async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=harness' });
    return pods.items[0];
  });
  await setPodReady(namespace, pod.metadata!.name!);
  await waitFor('the Deployment to count its pod ready', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'harness', namespace });
    return d.status?.readyReplicas === 1;
  });
  // Garbage collection by owner reference: the ReplicaSet and its pod go with the Deployment.
  await apps.deleteNamespacedDeployment({ name: 'harness', namespace });
  await waitFor('the garbage collector to remove the pod', async () => {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=harness' });
    return pods.items.length === 0;
  });
});
