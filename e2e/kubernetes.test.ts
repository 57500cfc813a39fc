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
import { TransferLedger } from './kubernetes/ledger.js';

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
/** The command line of kubectl or helm against the node cluster. */
const onCluster = (tool: 'kubectl' | 'helm', args: string) =>
  `${bin}/${tool} --kubeconfig ${CLUSTER_DIR}/kubeconfig ${args}`;
const kubectl = (args: string, options: { input?: string; timeoutMs?: number } = {}) =>
  ok(onCluster('kubectl', args), { cwd: root, ...options });
const helm = (args: string, options: { timeoutMs?: number } = {}) =>
  ok(onCluster('helm', args), { cwd: root, ...options });

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
      // Best effort (sh, not ok): a failed cleanup must not hide the failure that led here.
      await sh(onCluster('helm', `uninstall ${RELEASE} -n ${OPERATOR_NS}`));
      await sh(onCluster('kubectl', `delete namespace ${DSM_NS} --wait=false`));
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

  it('backs up on the schedule of spec.backup, and a cluster bootstrapped from that backup serves the same data', async () => {
    await kubectl(`apply -n ${DSM_NS} -f -`, {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'dsm-backups' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      }),
    });
    // Every minute, so the scheduler itself starts one; suspended again once one succeeded.
    const backup = {
      schedule: '* * * * *',
      retention: 3,
      destination: { persistentVolumeClaim: { claimName: 'dsm-backups' } },
    };
    await kubectl(
      `patch dsmcluster devnet -n ${DSM_NS} --type merge -p ${JSON.stringify(JSON.stringify({ spec: { backup } }))}`,
    );
    const t = Date.now();
    const status = async () =>
      JSON.parse((await kubectl(`get dsmcluster devnet -n ${DSM_NS} -o jsonpath={.status}`)).stdout) as {
        lastBackup?: { job: string; succeeded: boolean };
        conditions: { type: string; status: string; reason: string }[];
      };
    const run = await waitFor(
      'a scheduled backup to succeed',
      async () => {
        const s = await status();
        return s.lastBackup?.succeeded ? s.lastBackup : undefined;
      },
      300_000,
      3000,
    );
    timing('spec.backup applied to the first scheduled backup done', Date.now() - t);
    await kubectl(
      `patch dsmcluster devnet -n ${DSM_NS} --type merge -p ${JSON.stringify(JSON.stringify({ spec: { backup: { ...backup, suspend: true } } }))}`,
    );
    expect((await status()).conditions.find((c) => c.type === 'LastBackupSucceeded')).toMatchObject({
      status: 'True',
      reason: 'BackupCompleted',
    });
    expect((await kubectl(`describe dsmcluster devnet -n ${DSM_NS}`)).stdout).toMatch(
      /Normal\s+BackupCompleted/,
    );
    const report = JSON.parse((await kubectl(`logs job/${run.job} -n ${DSM_NS}`)).stdout) as {
      folder: string;
      files: { file: string }[];
    };
    expect(report.files.map((f) => f.file)).toEqual(['storage.car', 'core-0.car']);
    const folder = report.folder.split('/').pop()!;

    // A new cluster from that folder, with a copy of the keystore key the backed-up core used.
    const key = JSON.parse((await kubectl(`get secret devnet-keystore-key -n ${DSM_NS} -o json`)).stdout) as {
      data: Record<string, string>;
    };
    await kubectl(`apply -n ${DSM_NS} -f -`, {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'restored-keystore-key' },
        data: key.data,
      }),
    });
    const example = readFileSync(join(root, 'examples/dsmcluster.yaml'), 'utf8');
    const version = /^ {2}version: *(\S+)$/m.exec(example)![1]!;
    const restored = {
      apiVersion: 'dsm.io/v1alpha1',
      kind: 'DSMCluster',
      metadata: { name: 'restored' },
      spec: {
        version,
        secrets: { keystoreKey: { name: 'restored-keystore-key', key: Object.keys(key.data)[0] } },
        bootstrap: {
          fromBackup: { source: { persistentVolumeClaim: { claimName: 'dsm-backups' } }, folder },
        },
      },
    };
    const started = Date.now();
    await kubectl(`apply -n ${DSM_NS} -f -`, { input: JSON.stringify(restored) });
    await kubectl(`wait -n ${DSM_NS} --for=condition=Ready dsmcluster/restored --timeout=10m`, {
      timeoutMs: 660_000,
    });
    timing('a DSMCluster bootstrapped from the backup to Ready', Date.now() - started);

    const ip = async (pod: string) =>
      (await kubectl(`get pod ${pod} -n ${DSM_NS} -o jsonpath={.status.podIP}`)).stdout.trim();
    const digest = async (pod: string) =>
      ((await (await fetch(`http://${await ip(pod)}:8765/v1/status`)).json()) as { digest: string }).digest;
    for (const pod of ['restored-storage-0', 'restored-storage-1'])
      expect([pod, await digest(pod)]).toEqual([pod, await digest('devnet-storage-0')]);
    // The same hosted identities with the same balances, through each cluster's own core and API token.
    const token = async (cluster: string) =>
      Buffer.from(
        (await kubectl(`get secret ${cluster}-api-token -n ${DSM_NS} -o jsonpath={.data.token}`)).stdout,
        'base64',
      ).toString();
    const api = async (cluster: string, path: string) =>
      (await fetch(`http://${await ip(`${cluster}-core-0`)}:7545${path}`, {
        headers: { authorization: `Bearer ${await token(cluster)}` },
      }).then((r) => r.json())) as Record<string, unknown>;
    const hosted = (list: Record<string, unknown>) =>
      (list.identities as { identity: string }[]).map((i) => i.identity).sort();
    const identities = hosted(await api('devnet', '/v1/identities'));
    expect(identities.length).toBeGreaterThanOrEqual(2);
    expect(hosted(await api('restored', '/v1/identities'))).toEqual(identities);
    for (const id of identities)
      expect(await api('restored', `/v1/identities/${id}/balances`)).toEqual(
        await api('devnet', `/v1/identities/${id}/balances`),
      );

    // The copy goes, and the backups with it: the tests after this one count devnet's volumes.
    await kubectl(`delete dsmcluster restored -n ${DSM_NS} --timeout=120s`, { timeoutMs: 150_000 });
    await kubectl(
      `patch dsmcluster devnet -n ${DSM_NS} --type json -p '[{"op":"remove","path":"/spec/backup"}]'`,
    );
    await waitFor(
      'the backup CronJob pruned',
      async () =>
        (await kubectl(`get cronjobs -n ${DSM_NS} -o name`)).stdout.trim() === '' ? true : undefined,
      120_000,
      1000,
    );
    await kubectl(`delete jobs -n ${DSM_NS} -l app.kubernetes.io/component=backup --wait=false`);
    await kubectl(`delete pvc -n ${DSM_NS} -l dsm.io/cluster=restored --timeout=120s`, {
      timeoutMs: 150_000,
    });
    await kubectl(`delete pvc dsm-backups -n ${DSM_NS} --timeout=120s`, { timeoutMs: 150_000 });
  }, 900_000);

  it("enforces the cluster's NetworkPolicies (kube-router): storage only for the cluster's own pods, the API for the namespace", async () => {
    const ip = async (pod: string) =>
      (await kubectl(`get pod ${pod} -n ${DSM_NS} -o jsonpath={.status.podIP}`)).stdout.trim();
    const [storage, core] = [await ip('devnet-storage-0'), await ip('devnet-core-0')];
    const targets = { storageP2p: [storage, 8765], coreApi: [core, 7545], coreP2p: [core, 8765] };
    // TCP connections to each target for 15 s: "open" when one connects, else how the last one failed
    // (refused: kube-router rejects; timeout). 15 s: kube-router adds a new pod's address to the sets its
    // rules allow a moment after the pod starts.
    const script = [
      "const net = require('net');",
      'const once = ([host, port]) => new Promise((done) => {',
      '  const s = net.connect({ host, port }); const t = setTimeout(() => { s.destroy(); done("timeout"); }, 2000);',
      '  s.on("connect", () => { clearTimeout(t); s.destroy(); done("open"); });',
      '  s.on("error", (e) => { clearTimeout(t); done(e.code); });',
      '});',
      'const probe = async (target) => {',
      '  const deadline = Date.now() + 15000;',
      '  for (;;) {',
      '    const r = await once(target);',
      '    if (r === "open" || Date.now() > deadline) return r;',
      '    await new Promise((w) => setTimeout(w, 500));',
      '  }',
      '};',
      `const targets = ${JSON.stringify(targets)};`,
      'Promise.all(Object.values(targets).map(probe)).then((r) =>',
      '  console.log(JSON.stringify(Object.fromEntries(Object.keys(targets).map((k, i) => [k, r[i]])))));',
    ].join('\n');
    const probePod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'probe',
            image: `dsm-core:${VERSION}`,
            imagePullPolicy: 'IfNotPresent',
            command: ['node', '-e', script],
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ['ALL'] },
            },
          },
        ],
      },
    });
    const outside = `e2e-outside-${process.pid}`;
    await kubectl(`create namespace ${outside}`);
    await kubectl(`label namespace ${outside} pod-security.kubernetes.io/enforce=restricted`);
    const seen: Record<string, Record<string, string>> = {};
    for (const [ns, name] of [
      [DSM_NS, 'np-inside'],
      [outside, 'np-outside'],
    ] as const) {
      await kubectl(`apply -n ${ns} -f -`, { input: JSON.stringify(probePod(name)) });
      await kubectl(`wait -n ${ns} --for=jsonpath={.status.phase}=Succeeded pod/${name} --timeout=120s`, {
        timeoutMs: 150_000,
      });
      seen[name] = JSON.parse((await kubectl(`logs -n ${ns} ${name}`)).stdout) as Record<string, string>;
    }
    await kubectl(`delete pod np-inside -n ${DSM_NS} --wait=false`);
    await kubectl(`delete namespace ${outside} --wait=false`);
    const closed = (what: string | undefined) =>
      what === 'ECONNREFUSED' || what === 'timeout' ? 'closed' : what;
    const shape = (r: Record<string, string>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, closed(v)]));
    // A pod of the namespace that is not the cluster's: the API only. A pod of another namespace: nothing.
    expect(shape(seen['np-inside']!)).toEqual({ storageP2p: 'closed', coreApi: 'open', coreP2p: 'closed' });
    expect(shape(seen['np-outside']!)).toEqual({
      storageP2p: 'closed',
      coreApi: 'closed',
      coreP2p: 'closed',
    });
    // The node itself (this test, the kubelet's probes) is never filtered, and the cluster stays Ready.
    expect((await fetch(`http://${storage}:8765/metrics`)).status).toBe(200);
    await kubectl(`wait -n ${DSM_NS} --for=condition=Ready dsmcluster/devnet --timeout=60s`, {
      timeoutMs: 90_000,
    });
  }, 600_000);

  it("runs the README's bridge on this cluster: examples/dsmcluster-bridge.yaml on an EVM dev chain pod, SLV there and back", async () => {
    const work = mkdtempSync(join(tmpdir(), 'dsm-e2e-bridge-'));
    try {
      // The README's lines, in this test's namespace and with its files in a folder of its own.
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const start = readme.indexOf('```bash\n', readme.indexOf('#### The bridge on this cluster')) + 8;
      const lines = readme
        .slice(start, readme.indexOf('\n```', start))
        .replaceAll(' -n dsm ', ` -n ${DSM_NS} `)
        .replaceAll('.dsm.svc:', `.${DSM_NS}.svc:`)
        .replaceAll('/tmp/', `${work}/`);
      // Nothing left of the README's namespace or its /tmp files.
      expect(lines.replaceAll(work, '<work>')).not.toMatch(/ -n dsm\s|\.dsm\.svc|\/tmp\//);
      const t = Date.now();
      const walk = await ok(lines, {
        cwd: root,
        env: { KUBECONFIG: `${CLUSTER_DIR}/kubeconfig`, PATH: `${bin}:${process.env.PATH ?? ''}` },
        timeoutMs: 900_000,
      });
      timing(
        "README's bridge on this cluster (dev chain, contract, Secrets, Ready, round trip)",
        Date.now() - t,
      );
      expect(walk.stdout).toMatch(/^deposit minted by /m);
      expect(walk.stdout).toMatch(/^withdrawal released by /m);
      // 500.00 minted, 10.00 to the dev chain, 4.00 back.
      expect(walk.stdout).toMatch(/\b494\.00\b/);
      const row = walk.stdout.split('\n').find((l) => l.startsWith('bridged '));
      expect(row?.split(/\s+/).slice(0, 5)).toEqual(['bridged', 'True', '1/1', '2/2', '1/1']);

      // The bridge pod serves its metrics too, and says where it stands on the dev chain.
      const bridgePod = JSON.parse(
        (
          await kubectl(
            `get pods -n ${DSM_NS} -l dsm.io/cluster=bridged,app.kubernetes.io/component=bridge -o json`,
          )
        ).stdout,
      ) as { items: { status: { podIP: string } }[] };
      expect(bridgePod.items).toHaveLength(1);
      const metrics = await (await fetch(`http://${bridgePod.items[0]!.status.podIP}:8768/metrics`)).text();
      expect(metrics).toMatch(/^dsm_bridge_\w+/m);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    // Gone before the disturbances below, which count this namespace's pods and claims.
    await kubectl(`delete dsmcluster bridged -n ${DSM_NS} --wait=true --timeout=2m`, { timeoutMs: 150_000 });
    await kubectl(`delete -n ${DSM_NS} -f examples/evm-devchain.yaml --wait=true --timeout=2m`, {
      timeoutMs: 150_000,
    });
    await waitFor(
      "bridged's pods to go",
      async () =>
        (await kubectl(`get pods -n ${DSM_NS} -l dsm.io/cluster=bridged -o name`)).stdout.trim() === ''
          ? true
          : undefined,
      180_000,
      1000,
    );
    // Its volumes are retained (reclaimPolicy Retain): removed here by hand, as a user would.
    await kubectl(`delete pvc -n ${DSM_NS} -l dsm.io/cluster=bridged --wait=false`);
    await kubectl(
      `delete pvc -n ${DSM_NS} data-bridged-core-0 data-bridged-storage-0 data-bridged-storage-1 --ignore-not-found --wait=false`,
    );
  }, 1_200_000);

  describe('disturbed while transfers run, checked against a ledger of acknowledged transfers', () => {
    const SUPPLY = 1_000_000n;
    let ledger: TransferLedger;
    let alice = '';
    let bob = '';
    const secrets = mkdtempSync(join(tmpdir(), 'dsm-e2e-ledger-'));
    afterAll(() => rmSync(secrets, { recursive: true, force: true }));

    const pods = async () =>
      (
        JSON.parse((await kubectl(`get pods -n ${DSM_NS} -o json`)).stdout) as {
          items: {
            metadata: {
              name: string;
              uid: string;
              labels: Record<string, string>;
              creationTimestamp: string;
            };
            status: { podIP?: string };
          }[];
        }
      ).items;
    const storageHead = async (ip: string, id: string) =>
      ((await (await fetch(`http://${ip}:8765/v1/identities/${id}/head`)).json()) as { n: number }).n;
    const clusterReady = (what: string, storage: number, core = 1) =>
      waitFor(
        what,
        async () => {
          const c = JSON.parse((await kubectl(`get dsmcluster devnet -n ${DSM_NS} -o json`)).stdout) as {
            metadata: { generation: number };
            status?: {
              observedGeneration?: number;
              storage?: { readyReplicas: number };
              core?: { readyReplicas: number };
              conditions?: { type: string; status: string }[];
            };
          };
          const ready = c.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
          return ready &&
            c.status?.observedGeneration === c.metadata.generation &&
            c.status?.storage?.readyReplicas === storage &&
            c.status?.core?.readyReplicas === core
            ? true
            : undefined;
        },
        300_000,
        1000,
      );
    /** Whether the host-path volume bound to `claim` holds `entry`: the pod's state is on its volume. */
    const volumeHolds = async (claim: string, entry: string) => {
      const pv = (
        await kubectl(`get pvc ${claim} -n ${DSM_NS} -o jsonpath={.spec.volumeName}`)
      ).stdout.trim();
      const path = (await kubectl(`get pv ${pv} -o jsonpath={.spec.hostPath.path}`)).stdout.trim();
      return existsSync(join(path, entry));
    };
    /** After a step: every transfer's outcome known, balances exactly the ledger's, every storage pod caught up. */
    const check = async (step: string) => {
      await ledger.stop();
      await ledger.settle();
      // The load really ran through this step: at least a transfer a second would be a very slow cluster.
      expect([step, ledger.acknowledgedThisStep > 10]).toEqual([step, true]);
      // Nothing here can refuse a transfer of one unit: a refusal is a lost identity or token.
      expect([step, ledger.count('refused')]).toEqual([step, 0]);
      const from = await ledger.balance(alice);
      expect([step, from.available]).toEqual([step, SUPPLY - ledger.sent]);
      // Bob receives everything pending (the core's auto-receive may have done some already).
      await ok(`node workloads/cli/bin/dsm.js token receive --as ${bob}`, { cwd: root, env: cliEnv() });
      expect([step, (await ledger.balance(bob)).available]).toEqual([step, ledger.sent]);
      for (const pod of (await pods()).filter(
        (p) => p.metadata.labels['app.kubernetes.io/component'] === 'storage',
      ))
        await waitFor(`${pod.metadata.name} to hold alice's head ${from.n} (${step})`, async () =>
          (await storageHead(pod.status.podIP!, alice)) === from.n ? true : undefined,
        );
      process.stderr.write(
        `e2e ledger: ${step}: ${ledger.acknowledgedThisStep} acknowledged (${ledger.count('acknowledged')} in all), ${ledger.count('refused')} refused, ${ledger.unansweredThisStep} unanswered at first\n`,
      );
    };
    let coreUrl = '';
    const cliEnv = () => ({
      DSM_URL: coreUrl,
      DSM_API_TOKEN_FILE: join(secrets, 'api-token'),
    });

    beforeAll(async () => {
      const b64 = (await kubectl(`get secret devnet-api-token -n ${DSM_NS} -o jsonpath={.data.token}`))
        .stdout;
      const apiToken = Buffer.from(b64, 'base64').toString().trim();
      writeFileSync(join(secrets, 'api-token'), apiToken, { mode: 0o600 });
      const ip = (await kubectl(`get service devnet-core -n ${DSM_NS} -o jsonpath={.spec.clusterIP}`)).stdout;
      coreUrl = `http://${ip}:7545`;
      const cli = async (args: string) =>
        (await ok(`node workloads/cli/bin/dsm.js ${args}`, { cwd: root, env: cliEnv() })).stdout.trim();
      alice = await cli('identity create --label ledger-alice --quiet');
      bob = await cli('identity create --label ledger-bob --quiet');
      const token = await cli(
        `token create --as ${alice} --symbol LDG --name Ledger --decimals 0 --supply ${SUPPLY} --quiet`,
      );
      ledger = new TransferLedger({ url: coreUrl, apiToken, from: alice, to: bob, token, amount: 1n });
    }, 120_000);

    it('a storage pod deleted during transfers comes back with its volume; nothing acknowledged is lost', async () => {
      const before = await pods();
      const victim = before.find((p) => p.metadata.name === 'devnet-storage-1')!;
      const pvc = (await kubectl(`get pvc -n ${DSM_NS} data-devnet-storage-1 -o jsonpath={.metadata.uid}`))
        .stdout;
      ledger.start(2);
      await new Promise((r) => setTimeout(r, 3000));
      const t = Date.now();
      await kubectl(`delete pod devnet-storage-1 -n ${DSM_NS} --wait=false`);
      await waitFor('devnet-storage-1 to be recreated', async () =>
        (await pods()).find(
          (p) => p.metadata.name === 'devnet-storage-1' && p.metadata.uid !== victim.metadata.uid,
        ),
      );
      await kubectl(`wait -n ${DSM_NS} --for=condition=Ready pod/devnet-storage-1 --timeout=180s`, {
        timeoutMs: 200_000,
      });
      await clusterReady('the cluster to be Ready again', 2);
      timing('storage pod deleted to Ready again', Date.now() - t);
      await new Promise((r) => setTimeout(r, 2000));
      await check('storage pod deleted');
      // The same claim: the pod came back to its volume.
      // Its RocksDB is on that volume (not in an anonymous volume of the container, as it once was).
      expect(await volumeHolds('data-devnet-storage-1', 'rocksdb')).toBe(true);
      expect(
        (await kubectl(`get pvc -n ${DSM_NS} data-devnet-storage-1 -o jsonpath={.metadata.uid}`)).stdout,
      ).toBe(pvc);
    }, 600_000);

    it('with 2 core replicas, a core pod killed during transfers: the Service keeps answering, nothing acknowledged is lost', async () => {
      await kubectl(
        `patch dsmcluster devnet -n ${DSM_NS} --type merge -p '{"spec":{"core":{"replicas":2}}}'`,
      );
      await clusterReady('2 core pods ready', 2, 2);
      // A client of the Service reading status every 100 ms through the kill.
      let answered = 0;
      let failed = 0;
      let probing = true;
      const probe = (async () => {
        while (probing) {
          const r = await fetch(`${coreUrl}/v1/status`, { signal: AbortSignal.timeout(2000) }).catch(
            () => undefined,
          );
          if (r?.ok) answered++;
          else failed++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      ledger.start(2);
      await new Promise((r) => setTimeout(r, 3000));
      const t = Date.now();
      await kubectl(`delete pod devnet-core-0 -n ${DSM_NS} --grace-period=0 --force`);
      await new Promise((r) => setTimeout(r, 3000));
      await clusterReady('both core pods ready again', 2, 2);
      timing('core pod killed to Ready again', Date.now() - t);
      probing = false;
      await probe;
      process.stderr.write(
        `e2e: core Service during the kill: ${answered} status answers, ${failed} failed\n`,
      );
      expect(answered).toBeGreaterThan(20);
      expect(failed).toBeLessThanOrEqual(answered / 10);
      await check('core pod killed');
      // The killed pod's keys and chains were on its volume: it came back hosting what it hosted.
      expect(await volumeHolds('data-devnet-core-0', 'rocksdb')).toBe(true);
    }, 600_000);

    it('scales storage 2 → 3 while the operator leader is killed mid-reconcile: the standby converges, the new node catches up', async () => {
      // The release's Lease (the chart names it after the release), the only one in its namespace.
      const holder = async () =>
        (
          await kubectl(`get lease -n ${OPERATOR_NS} -o jsonpath={.items[0].spec.holderIdentity}`)
        ).stdout.trim();
      const leader = await holder();
      const leaderPod = leader.slice(0, leader.lastIndexOf('_'));
      ledger.start(2);
      await new Promise((r) => setTimeout(r, 2000));
      const t = Date.now();
      await kubectl(`scale dsmcluster/devnet -n ${DSM_NS} --replicas=3`);
      await kubectl(`delete pod ${leaderPod} -n ${OPERATOR_NS} --grace-period=0 --force`);
      await clusterReady('3 storage nodes ready and caught up', 3, 2);
      timing('scale 2 → 3 with the leader killed, to Ready', Date.now() - t);
      const next = await holder();
      expect(next.startsWith(`${leaderPod}_`)).toBe(false);
      await check('storage scaled to 3, leader killed');
    }, 600_000);

    it(`rolls a new spec.version (${VERSION}-e2e, the same images): storage one pod at a time, then core; nothing acknowledged is lost`, async () => {
      const next = `${VERSION}-e2e`;
      await ok(IMAGES.map((i) => `docker tag ${i}:${TAG} ${i}:${next}`).join(' && '));
      await ok(`bash e2e/cluster/node/load-images.sh ${IMAGES.map((i) => `${i}:${next}`).join(' ')}`, {
        cwd: root,
        env: clusterEnv,
        timeoutMs: 600_000,
      });
      ledger.start(2);
      await new Promise((r) => setTimeout(r, 2000));
      const t = Date.now();
      await kubectl(`patch dsmcluster devnet -n ${DSM_NS} --type merge -p '{"spec":{"version":"${next}"}}'`);
      await waitFor(
        `every component on ${next}`,
        async () => {
          const c = JSON.parse((await kubectl(`get dsmcluster devnet -n ${DSM_NS} -o json`)).stdout) as {
            status?: { version?: string; conditions?: { type: string; status: string }[] };
          };
          const ready = c.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
          return ready && c.status?.version === next ? true : undefined;
        },
        600_000,
        1000,
      );
      timing(`roll to ${next}, to Ready`, Date.now() - t);
      // Storage first, one pod at a time from the highest ordinal, then core: the pods' creation times
      // (whole seconds, so a tie is no disorder).
      const created = Object.fromEntries(
        (await pods()).map((p) => [p.metadata.name, Date.parse(p.metadata.creationTimestamp)]),
      ) as Record<string, number>;
      const order = ['devnet-storage-2', 'devnet-storage-1', 'devnet-storage-0'].map((n) => created[n]!);
      order.push(Math.min(created['devnet-core-0']!, created['devnet-core-1']!));
      expect(order.every((at, k) => k === 0 || order[k - 1]! <= at)).toBe(true);
      expect(order[0]! > t - 1000).toBe(true);
      for (const pod of await pods()) {
        const image = (
          await kubectl(`get pod ${pod.metadata.name} -n ${DSM_NS} -o jsonpath={.spec.containers[0].image}`)
        ).stdout;
        expect(image.endsWith(`:${next}`)).toBe(true);
      }
      await check(`rolled to ${next}`);
    }, 900_000);

    it('deleting the DSMCluster removes what the operator made and keeps the volumes and their keystore key (reclaimPolicy Retain)', async () => {
      await kubectl(`delete dsmcluster devnet -n ${DSM_NS} --timeout=120s`, { timeoutMs: 150_000 });
      await waitFor(
        'the garbage collector to remove the children',
        async () => {
          const left = (
            await kubectl(
              `get statefulsets,services,configmaps,poddisruptionbudgets,networkpolicies,secrets -n ${DSM_NS} -l dsm.io/cluster=devnet -o name`,
            )
          ).stdout.trim();
          // Retained core volumes hold a keystore only this key opens: it stays with them.
          return left === 'secret/devnet-keystore-key' ? true : undefined;
        },
        180_000,
        1000,
      );
      const claims = (await kubectl(`get pvc -n ${DSM_NS} -o jsonpath={.items[*].metadata.name}`)).stdout
        .trim()
        .split(/\s+/)
        .sort();
      expect(claims).toEqual([
        'data-devnet-core-0',
        'data-devnet-core-1',
        'data-devnet-storage-0',
        'data-devnet-storage-1',
        'data-devnet-storage-2',
      ]);
    }, 300_000);
  });

  // Last (jest runs a block's own tests before its nested blocks): the cluster goes away here.
  describe('at the end', () => {
    it('stops with down.sh and leaves nothing on the host: containers, mounts, bridge, rules, ipsets, volumes', async () => {
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
          "ipset list -n | grep '^KUBE-' || true",
          // node/up.sh's route making unprogrammed Service addresses unreachable from pods.
          "ip rule show | grep 'lookup 244' || true",
          'ip route show table 244 2>/dev/null || true',
          // [x]: the pattern does not match this shell's own command line.
          "pgrep -f '[c]ontainerd-shim.*dsm-node|[k]ubelet --config|[k]ube-proxy --config|[k]ube-router --run|[c]oredns -conf' || true",
        ].join('; '),
        { cwd: root },
      );
      expect(left.stdout.trim()).toBe('');
    }, 180_000);
  });
});
