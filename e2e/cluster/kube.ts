/**
 * What cluster tests share: the kubeconfig global-setup.ts started, namespaces of their own (Pod Security
 * "restricted" enforced), the DSMCluster CRD installed from @dsm/cdk8s, kubectl, pod readiness set by hand
 * (this layer has no kubelet) and bounded waiting.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';

const run = promisify(execFile);

export function kubeConfig(): k8s.KubeConfig {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error('KUBECONFIG is unset: run cluster tests through `npm run test:cluster`');
  const config = new k8s.KubeConfig();
  config.loadFromFile(path);
  return config;
}

/** The pinned kubectl (built by build.sh), with the test cluster's kubeconfig. */
export async function kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const bin = process.env.DSM_CLUSTER_BIN;
  if (!bin) throw new Error('DSM_CLUSTER_BIN is unset: run cluster tests through `npm run test:cluster`');
  const child = run(join(bin, 'kubectl'), args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return child;
}

/** Polls `check` until it returns a value other than undefined/false; bounded by `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A namespace of the test's own, enforcing Pod Security "restricted" like a production namespace should. */
export async function freshNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubeConfig()
    .makeApiClient(k8s.CoreV1Api)
    .createNamespace({
      body: {
        metadata: {
          name,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubeConfig()
    .makeApiClient(k8s.CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
}

/**
 * Installs (server-side apply, through kubectl: client-node's typed serializer drops the CRD schema's
 * `x-kubernetes-*` keys) the DSMCluster CRD and waits until the apiserver serves it and its OpenAPI.
 */
export async function installCrd(): Promise<void> {
  // Imported when used: the harness's own tests need no CRD.
  const { dsmClusterCrd } = await import('@dsm/cdk8s');
  const crd = dsmClusterCrd() as { metadata: { name: string } };
  await kubectl(
    ['apply', '--server-side', '--force-conflicts', '--field-manager', 'dsm-tests', '-f', '-'],
    JSON.stringify(crd),
  );
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd.metadata.name}`]);
  // The OpenAPI documents (what kubeconform's schemas and `kubectl explain` read) follow a moment later.
  const group = crd.metadata.name.slice(crd.metadata.name.indexOf('.') + 1);
  await waitFor(`/openapi/v3 to serve ${group}`, async () => {
    const index = JSON.parse((await kubectl(['get', '--raw', '/openapi/v3'])).stdout) as {
      paths: Record<string, unknown>;
    };
    return Object.keys(index.paths).some((path) => path.startsWith(`apis/${group}/`));
  });
}

/**
 * Marks a pod Running and Ready through the pods/status subresource, as a kubelet would once its probes
 * pass (the StatefulSet and Deployment controllers then count it).
 */
export async function setPodReady(namespace: string, name: string, ready = true): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  const pod = await core.readNamespacedPod({ name, namespace });
  const now = new Date();
  const status = ready ? 'True' : 'False';
  pod.status = {
    ...pod.status,
    phase: 'Running',
    podIP: pod.status?.podIP ?? '10.244.0.10',
    podIPs: pod.status?.podIPs ?? [{ ip: '10.244.0.10' }],
    hostIP: '127.0.0.1',
    startTime: pod.status?.startTime ?? now,
    conditions: ['Initialized', 'ContainersReady', 'Ready', 'PodScheduled'].map((type) => ({
      type,
      status: type === 'Ready' || type === 'ContainersReady' ? status : 'True',
      lastTransitionTime: now,
    })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: now } },
    })),
  };
  await core.replaceNamespacedPodStatus({ name, namespace, body: pod });
}

/** The Kubernetes Status (code, reason, message) a rejected API call answered; throws if it did not fail. */
export async function refusal(
  call: Promise<unknown>,
): Promise<{ code: number; reason: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof k8s.ApiException) {
      const body =
        typeof error.body === 'string'
          ? (JSON.parse(error.body) as k8s.V1Status)
          : (error.body as k8s.V1Status);
      return { code: error.code, reason: body.reason ?? '', message: body.message ?? '' };
    }
    throw error;
  }
  throw new Error('the API call succeeded where a refusal was expected');
}
