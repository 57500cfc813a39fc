/**
 * Our images on a real single-node Kubernetes cluster (e2e/cluster/up.sh --node: kube-scheduler, kubelet,
 * a containerd of its own with runc, the CNI bridge, kube-proxy, CoreDNS, volumes the controller-manager
 * provisions on the host), as users run them: pods meeting Pod Security "restricted", in namespaces that
 * enforce it. The cluster is the one `npm run cluster:up` gives a developer; this file starts it (reusing
 * one already running), imports the images built by compose, and stops it at the end, proving that
 * down.sh leaves nothing behind on the host.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ok, root, sh, timing, waitFor } from './docker/stack.js';

const CLUSTER_DIR = process.env.DSM_NODE_CLUSTER_DIR ?? '/tmp/dsm-node';
const clusterEnv = { DSM_CLUSTER_DIR: CLUSTER_DIR };
/** The tag compose builds (e2e/images.test.ts builds the same). */
const TAG = 'local';
const IMAGES = ['dsm-core', 'dsm-storage', 'dsm-bridge', 'dsm-evm-devchain', 'dsm-operator'];
/** The README's DSMCluster and its version: the images are tagged with it (so is the chart's appVersion). */
const VERSION = /^ {2}version: *(\S+)$/m.exec(
  readFileSync(join(root, 'examples/dsmcluster.yaml'), 'utf8'),
)![1]!;
/** The e2e operator's release: it watches only the test's namespace, beside any operator a developer runs. */
const RELEASE = 'dsm-e2e';
const OPERATOR_NS = 'dsm-e2e-system';
const DSM_NS = `dsm-e2e-${process.pid}`;

let bin = '';
const kubectl = (args: string, options: { input?: string; timeoutMs?: number } = {}) =>
  ok(`${bin}/kubectl --kubeconfig ${CLUSTER_DIR}/kubeconfig ${args}`, { cwd: root, ...options });
const helm = (args: string, options: { timeoutMs?: number } = {}) =>
  ok(`${bin}/helm --kubeconfig ${CLUSTER_DIR}/kubeconfig ${args}`, { cwd: root, ...options });

describe('a single-node Kubernetes cluster running the images', () => {
  let started = false;

  beforeAll(async () => {
    const build = await ok('docker compose build && docker compose -f images.yml build', {
      timeoutMs: 1_500_000,
    });
    timing('docker compose build (kubernetes test)', build.ms);
    await ok(IMAGES.map((i) => `docker tag ${i}:${TAG} ${i}:${VERSION}`).join(' && '));
    bin = (await ok('bash e2e/cluster/build.sh kubectl helm', { cwd: root })).stdout.trim();
    started = !existsSync(join(CLUSTER_DIR, 'node.ready'));
    const up = await ok('bash e2e/cluster/up.sh --node', {
      cwd: root,
      env: clusterEnv,
      timeoutMs: 1_500_000,
    });
    timing('up.sh --node (node Ready, DNS answering)', up.ms);
    const images = IMAGES.map((i) => `${i}:${VERSION}`).join(' ');
    const load = await ok(`bash e2e/cluster/node/load-images.sh ${images}`, {
      cwd: root,
      env: clusterEnv,
      timeoutMs: 600_000,
    });
    timing('images imported into the node', load.ms);
  }, 3_600_000);

  afterAll(async () => {
    // The last test stops a cluster this file started; this covers a failure before it, and a reused one.
    if (started && existsSync(CLUSTER_DIR))
      await sh('bash e2e/cluster/down.sh --node', { cwd: root, env: clusterEnv });
    else if (bin !== '') {
      await sh(`${bin}/helm --kubeconfig ${CLUSTER_DIR}/kubeconfig uninstall ${RELEASE} -n ${OPERATOR_NS}`);
      await sh(
        `${bin}/kubectl --kubeconfig ${CLUSTER_DIR}/kubeconfig delete namespace ${DSM_NS} --wait=false`,
      );
    }
  }, 120_000);

  it('runs a restricted pod with a provisioned volume, cluster DNS, the apiserver and a Service', async () => {
    const ns = `e2e-node-${process.pid}`;
    await kubectl(`create namespace ${ns}`);
    await kubectl(`label namespace ${ns} pod-security.kubernetes.io/enforce=restricted`);
    // What a DSM pod does on its first start: write its volume, resolve Services, reach the apiserver
    // through the kubernetes Service with its service account, serve a port behind a Service.
    const script = [
      "const fs = require('fs'); const dns = require('dns').promises; const https = require('https');",
      "fs.writeFileSync('/data/written', String(process.getuid()));",
      'const sa = "/var/run/secrets/kubernetes.io/serviceaccount";',
      'const get = (path) => new Promise((resolve, reject) => https.get({ host: "kubernetes.default.svc",',
      '  path, ca: fs.readFileSync(sa + "/ca.crt"), headers: { authorization: "Bearer " + fs.readFileSync(sa + "/token") } },',
      '  (r) => resolve(r.statusCode)).on("error", reject));',
      "Promise.all([dns.lookup('kubernetes.default.svc.cluster.local'), get('/version')])",
      '  .then(([a, v]) => console.log(JSON.stringify({ dns: a.address, api: v })), (e) => console.log(JSON.stringify({ error: String(e) })));',
      "require('http').createServer((q, r) => r.end(fs.readFileSync('/data/written'))).listen(8080);",
    ].join('\n');
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'probe', labels: { app: 'probe' } },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'probe',
                image: `dsm-core:${VERSION}`,
                imagePullPolicy: 'IfNotPresent',
                command: ['node', '-e', script],
                readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'probe' },
          spec: { selector: { app: 'probe' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      ],
    };
    const t = Date.now();
    await kubectl(`apply -n ${ns} -f -`, { input: JSON.stringify(manifest) });
    await kubectl(`wait -n ${ns} --for=condition=Ready pod/probe --timeout=120s`, { timeoutMs: 150_000 });
    timing('restricted pod with a volume: apply to Ready', Date.now() - t);

    // Its volume, a host-path PersistentVolume the controller-manager made, bound and the pod's to write.
    const pvc = JSON.parse((await kubectl(`get pvc data -n ${ns} -o json`)).stdout) as {
      status: { phase: string };
      spec: { storageClassName: string };
    };
    expect([pvc.status.phase, pvc.spec.storageClassName]).toEqual(['Bound', 'standard']);
    const logged = await waitFor('the pod to report', async () => {
      const out = (await kubectl(`logs -n ${ns} probe`)).stdout.trim();
      return out === '' ? undefined : (JSON.parse(out) as { dns?: string; api?: number; error?: string });
    });
    expect(logged).toEqual({ dns: '10.96.0.1', api: 200 });
    // The Service's ClusterIP, from the host, through kube-proxy's rules.
    const ip = (await kubectl(`get service probe -n ${ns} -o jsonpath={.spec.clusterIP}`)).stdout.trim();
    const body = await waitFor('the Service to answer', async () => {
      const response = await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(2000) }).catch(
        () => undefined,
      );
      return response?.ok ? response.text() : undefined;
    });
    expect(body).toBe('1000');
    await kubectl(`delete namespace ${ns} --wait=false`);
  }, 300_000);

  it("installs the operator with Helm and brings the README's DSMCluster to Ready", async () => {
    // The namespace first: the chart makes its Role there.
    await kubectl(`create namespace ${DSM_NS}`);
    await kubectl(`label namespace ${DSM_NS} pod-security.kubernetes.io/enforce=restricted`);
    const install = await helm(
      `install ${RELEASE} charts/dsm-operator --namespace ${OPERATOR_NS} --create-namespace ` +
        `--set 'watchNamespaces={${DSM_NS}}' --wait --timeout 3m`,
      { timeoutMs: 240_000 },
    );
    timing('helm install (both operator replicas ready)', install.ms);
    const t = Date.now();
    await kubectl(`apply -n ${DSM_NS} -f examples/dsmcluster.yaml`);
    await kubectl(`wait -n ${DSM_NS} --for=condition=Ready dsmcluster/devnet --timeout=10m`, {
      timeoutMs: 660_000,
    });
    timing('kubectl apply examples/dsmcluster.yaml to Ready', Date.now() - t);

    // What the README shows a user: the printer columns, the conditions' Events, the field docs.
    const [header, row] = (await kubectl(`get dsm -n ${DSM_NS}`)).stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'READY', 'CORE', 'STORAGE', 'BRIDGE', 'VERSION', 'AGE']);
    // BRIDGE is empty: the example has no bridge.
    expect(row!.split(/\s+/).slice(0, 5)).toEqual(['devnet', 'True', '1/1', '2/2', VERSION]);
    const described = (await kubectl(`describe dsmcluster devnet -n ${DSM_NS}`)).stdout;
    expect(described).toMatch(/Normal\s+AllComponentsReady\s+.*dsm\.io\/operator\s+Ready True/);
    expect((await kubectl('explain dsmcluster.spec.storage')).stdout).toContain('replicationFactor');
  }, 900_000);

  it("serves the README's walkthrough through the core Service; both storage pods hold it; every pod has /metrics", async () => {
    const secrets = mkdtempSync(join(tmpdir(), 'dsm-e2e-k8s-'));
    try {
      // The tokens as a user reads them: from the Secrets the operator generated.
      for (const what of ['admin', 'api']) {
        const b64 = (await kubectl(`get secret devnet-${what}-token -n ${DSM_NS} -o jsonpath={.data.token}`))
          .stdout;
        writeFileSync(join(secrets, `${what}-token`), Buffer.from(b64, 'base64'));
        chmodSync(join(secrets, `${what}-token`), 0o600);
      }
      const core = (await kubectl(`get service devnet-core -n ${DSM_NS} -o jsonpath={.spec.clusterIP}`))
        .stdout;
      // The README's lines up to the bridge (this cluster has none), with the tokens' files for .dsm-dev/.
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const start = readme.indexOf('```bash\n', readme.indexOf('## Walkthrough')) + '```bash\n'.length;
      const lines = readme
        .slice(start, readme.indexOf('# The bridge:', start))
        .replaceAll('.dsm-dev/', `${secrets}/`);
      const t = Date.now();
      const walk = await ok(`${lines}\necho "BOB=$BOB"`, {
        cwd: root,
        env: { DSM_URL: `http://${core}:7545`, DSM_ADMIN_URL: `http://${core}:8765` },
        timeoutMs: 300_000,
      });
      timing('README walkthrough (to the bridge) through the core Service', Date.now() - t);
      expect(walk.stdout).toContain('refused by the policy, as it should be');
      expect(walk.stdout).toMatch(/^OK: 2\/2 states of \S+ verified/m);
      const bob = /^BOB=(\S+)$/m.exec(walk.stdout)![1]!;

      // Replication factor 2: each storage pod has Bob's head (the receive, height 1).
      const pods = JSON.parse((await kubectl(`get pods -n ${DSM_NS} -o json`)).stdout) as {
        items: { metadata: { name: string; labels: Record<string, string> }; status: { podIP: string } }[];
      };
      const storage = pods.items.filter(
        (p) => p.metadata.labels['app.kubernetes.io/component'] === 'storage',
      );
      expect(storage).toHaveLength(2);
      for (const pod of storage) {
        const head = (await (
          await fetch(`http://${pod.status.podIP}:8765/v1/identities/${bob}/head`)
        ).json()) as {
          n: number;
          forked: boolean;
        };
        expect([pod.metadata.name, head.n, head.forked]).toEqual([pod.metadata.name, 1, false]);
      }
      // Every DSM pod serves Prometheus metrics on its P2P port (what the ServiceMonitors scrape).
      for (const pod of pods.items) {
        const metrics = await (await fetch(`http://${pod.status.podIP}:8765/metrics`)).text();
        expect([pod.metadata.name, /^dsm_\w+/m.test(metrics)]).toEqual([pod.metadata.name, true]);
      }
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  }, 600_000);

  it('stops with down.sh and leaves nothing on the host: containers, mounts, bridge, rules, volumes', async () => {
    if (!started) return; // a developer's cluster (npm run cluster:up) is theirs to stop
    const down = await ok('bash e2e/cluster/down.sh --node', {
      cwd: root,
      env: clusterEnv,
      timeoutMs: 120_000,
    });
    timing('down.sh --node', down.ms);
    expect(existsSync(CLUSTER_DIR)).toBe(false);
    const left = await ok(
      [
        'ip -br link show dsm0 2>/dev/null || true',
        `findmnt -rno TARGET | grep '^${CLUSTER_DIR}/' || true`,
        "ip netns list | grep '^cni-' || true",
        "for t in nat mangle filter; do iptables -t $t -S; ip6tables -t $t -S; done | grep -E -- '-N (KUBE|CNI)-' || true",
        'ls /tmp/hostpath_pv 2>/dev/null || true',
        // [x]: the pattern does not match this shell's own command line.
        "pgrep -f '[c]ontainerd-shim.*dsm-node|[k]ubelet --config|[k]ube-proxy --config|[c]oredns -conf' || true",
      ].join('; '),
      { cwd: root },
    );
    expect(left.stdout.trim()).toBe('');
  }, 180_000);
});
