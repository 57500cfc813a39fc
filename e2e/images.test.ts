/**
 * The images themselves, built by `docker compose build` from the one Dockerfile: user 1000:1000, OCI labels
 * (the package's version, the build's revision, source, title, licenses), at most 200 MB each, and nothing in
 * them that the services do not run: no CA bundle, npm cache, npm, package manager, compiler or development
 * dependency. Then the four of them run by plain `docker run` with a read-only root filesystem, every
 * capability dropped and no new privileges, with no tmpfs for the services (the dev chain gets one for
 * hardhat's caches): each becomes healthy, and a SIGTERM stops each service cleanly (exit 0).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CA_BUNDLE, REVISION, ok, root, sh, timing, waitFor } from './docker/stack.js';

const TAG = 'local';
const IMAGES = {
  core: `dsm-core:${TAG}`,
  storage: `dsm-storage:${TAG}`,
  bridge: `dsm-bridge:${TAG}`,
  evm: `dsm-evm-devchain:${TAG}`,
  operator: `dsm-operator:${TAG}`,
} as const;
type Target = keyof typeof IMAGES;
const MAX_BYTES = 200 * 1000 * 1000;
/** Hardhat's dev accounts 0 (deployer) and 1 (the bridge's): public test keys of the dev chain. */
const DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
] as const;

interface Inspect {
  Size: number;
  Config: {
    User: string;
    Labels: Record<string, string>;
    Healthcheck?: { Test: string[] };
    Cmd: string[];
  };
}

const version = (file: string) =>
  (JSON.parse(readFileSync(join(root, file), 'utf8')) as { version: string }).version;
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean }>;
};
/** Packages only development needs, by their node_modules path. */
const devOnly = new Set(
  Object.entries(lock.packages)
    .filter(([path, p]) => p.dev === true && path.startsWith('node_modules/'))
    .map(([path]) => path),
);

async function inspect(image: string): Promise<Inspect> {
  return (JSON.parse((await ok(`docker image inspect ${image}`)).stdout) as Inspect[])[0] as Inspect;
}

/** Every path in the image's filesystem (from a created, never started, container). */
async function files(image: string): Promise<string[]> {
  const { stdout } = await ok(
    `id=$(docker create ${image}); docker export "$id" | tar -t; docker rm -v "$id" >/dev/null`,
    { timeoutMs: 120_000 },
  );
  return stdout.split('\n').filter(Boolean);
}

describe('the images', () => {
  const facts = {} as Record<Target, { inspect: Inspect; files: string[] }>;

  afterAll(async () => {
    // Images a rebuild untagged (the sources changed since the last one): ours only, by their label.
    await sh('docker image prune -f --filter label=org.opencontainers.image.vendor=DSM');
  });

  beforeAll(async () => {
    const build = await ok('docker compose build', { timeoutMs: 1_200_000 });
    timing('docker compose build (images test)', build.ms);
    // The operator's image: compose builds it (compose/images.yml) but never runs it.
    const operator = await ok('docker compose build', {
      timeoutMs: 1_200_000,
      env: {
        COMPOSE_PROJECT_NAME: 'dsm-images',
        COMPOSE_FILE: existsSync(CA_BUNDLE)
          ? 'images.yml:../e2e/docker/compose.images-build-ca.yml'
          : 'images.yml',
      },
    });
    timing('docker compose -f compose/images.yml build (the operator image)', operator.ms);
    for (const [target, image] of Object.entries(IMAGES) as [Target, string][]) {
      facts[target] = { inspect: await inspect(image), files: await files(image) };
    }
  }, 1_500_000);

  it('are at most 200 MB each', () => {
    const sizes = Object.fromEntries(
      Object.entries(facts).map(([target, f]) => [target, Math.round(f.inspect.Size / 1e5) / 10]),
    );
    process.stderr.write(`e2e image sizes (MB): ${JSON.stringify(sizes)}\n`);
    for (const f of Object.values(facts)) expect(f.inspect.Size).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('run as 1000:1000', () => {
    for (const f of Object.values(facts)) expect(f.inspect.Config.User).toBe('1000:1000');
  });

  it("carry OCI labels: the package's version, the build's revision, source, title, licenses", () => {
    const versions: Record<Target, string | undefined> = {
      core: version('workloads/core/package.json'),
      storage: version('workloads/storage/package.json'),
      bridge: version('workloads/bridge/package.json'),
      evm: lock.packages['node_modules/hardhat']?.version,
      operator: version('operator/package.json'),
    };
    for (const [target, f] of Object.entries(facts) as [Target, { inspect: Inspect }][]) {
      const labels = f.inspect.Config.Labels;
      expect(labels['org.opencontainers.image.version']).toBe(versions[target]);
      expect(labels['org.opencontainers.image.revision']).toBe(REVISION);
      expect(labels['org.opencontainers.image.source']).toMatch(/^https:\/\//);
      expect(labels['org.opencontainers.image.title']).toMatch(/^dsm-/);
      expect(labels['org.opencontainers.image.licenses']).toBe('MIT OR Apache-2.0');
    }
  });

  it('check their health through /usr/local/bin/cli status --json (the dev chain: its JSON-RPC)', () => {
    for (const target of ['core', 'storage', 'bridge'] as const) {
      expect(facts[target].inspect.Config.Healthcheck?.Test.slice(0, 4)).toEqual([
        'CMD',
        '/usr/local/bin/cli',
        'status',
        '--json',
      ]);
      expect(facts[target].files).toContain('usr/local/bin/cli');
    }
    expect(facts.evm.inspect.Config.Healthcheck?.Test).toEqual(['CMD', 'node', '/opt/evm/evm.mjs', 'health']);
    // The operator has no CLI: its check asks its own /healthz (Kubernetes probes that itself).
    expect(facts.operator.inspect.Config.Healthcheck?.Test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(facts.operator.inspect.Config.Healthcheck?.Test[3]).toContain('/healthz');
  });

  it('give the operator its bundle alone: one file under /app, no node_modules', () => {
    const app = facts.operator.files.filter((p) => p.startsWith('app/') && !p.endsWith('/'));
    expect(app).toEqual(['app/dsm-operator.mjs']);
    expect(facts.operator.inspect.Config.Cmd.at(-1)).toBe('/app/dsm-operator.mjs');
  });

  it('hold no CA bundle, npm cache, npm, package manager or build toolchain', () => {
    const forbidden = [
      /(^|\/)ca-certificates(\.crt)?$/,
      /^etc\/ssl\//,
      /^run\/secrets\//,
      /(^|\/)\.npm\//,
      /^root\//,
      /^usr\/local\/lib\/node_modules\/npm\//,
      /^usr\/(local\/)?bin\/(npm|npx|corepack|yarn|apt|apt-get|dpkg|gcc|cc|g\+\+|make|ld|strip|as|python3?)$/,
      /^usr\/lib\/gcc\//,
      /^var\/lib\/(apt|dpkg)\//,
      /(^|\/)node_modules\/(typescript|jest|eslint|@swc|prettier|solc)\//,
    ];
    for (const [target, f] of Object.entries(facts)) {
      const found = f.files.filter((path) => forbidden.some((re) => re.test(path)));
      expect([target, found]).toEqual([target, []]);
    }
  });

  it('hold no development dependency (the dev chain: only hardhat and what it runs with)', () => {
    const installed = (f: { files: string[] }) =>
      new Set(
        f.files
          .map(
            (p) =>
              /^(?:app|opt\/evm)\/((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/.exec(
                p,
              )?.[1],
          )
          .filter((p): p is string => p !== undefined),
      );
    for (const target of ['core', 'storage', 'bridge', 'operator'] as const) {
      const dev = [...installed(facts[target])].filter((p) => devOnly.has(p));
      expect([target, dev]).toEqual([target, []]);
      // The test harness is not shipped either.
      expect(facts[target].files.some((p) => p.startsWith('app/workloads/testkit'))).toBe(false);
      expect(facts[target].files.some((p) => p.startsWith('app/node_modules/@dsm/testkit'))).toBe(false);
    }
    const evm = installed(facts.evm);
    expect(evm.has('node_modules/hardhat')).toBe(true);
    for (const p of [
      'node_modules/typescript',
      'node_modules/jest',
      'node_modules/solc',
      'node_modules/@openzeppelin/contracts',
    ])
      expect(evm.has(p)).toBe(false);
  });

  describe('run with a read-only root filesystem, no capabilities and no new privileges', () => {
    const run = `e2e-images-${process.pid}`;
    const secrets = mkdtempSync(join(tmpdir(), 'dsm-e2e-images-'));
    const secret = (name: string, value: string) => {
      const file = join(secrets, name);
      writeFileSync(file, `${value}\n`);
      chmodSync(file, 0o600);
      // The containers' user must read it (the test runs as root).
      if (process.getuid?.() === 0) chownSync(file, 1000, 1000);
      return `-v ${file}:/run/secrets/${name}:ro`;
    };
    const hardened = '--read-only --cap-drop ALL --security-opt no-new-privileges:true --health-interval 1s';
    const started: Record<string, number> = {};

    const start = async (name: string, image: string, args: string, command = '') => {
      started[name] = Date.now();
      await ok(
        `docker run -d --name ${run}-${name} --network ${run} --network-alias ${name} ${hardened} ${args} ${image} ${command}`,
      );
    };
    const healthy = (name: string, timeoutMs = 120_000) =>
      waitFor(
        `${name} to be healthy`,
        async () => {
          const { stdout } = await ok(
            `docker inspect -f '{{.State.Health.Status}} {{.State.Status}}' ${run}-${name}`,
          );
          if (stdout.includes('exited'))
            throw new Error(`${name} exited: ${(await sh(`docker logs --tail 20 ${run}-${name}`)).stderr}`);
          return stdout.startsWith('healthy') ? Date.now() - (started[name] as number) : undefined;
        },
        timeoutMs,
        250,
      );

    beforeAll(async () => {
      await ok(`docker network create ${run}`);
    });

    afterAll(async () => {
      await sh(
        `docker rm -f -v $(docker ps -aq --filter name=${run}-) 2>/dev/null; docker network rm ${run}`,
      );
      rmSync(secrets, { recursive: true, force: true });
    });

    it('storage, core, dev chain and bridge become healthy with nothing written outside their volumes', async () => {
      const admin = secret('admin-token', 'e2e-admin-token-0123456789');
      await start(
        'storage',
        IMAGES.storage,
        `-e DSM_STORAGE_NODE_ID=storage -e DSM_STORAGE_REPLICATION_FACTOR=1 -e DSM_ADMIN_TOKEN_FILE=/run/secrets/admin-token ${admin}`,
      );
      timing('storage image: docker run to healthy', await healthy('storage'));
      await start(
        'core',
        IMAGES.core,
        `-e DSM_CONNECT_PEERS=storage:8765 -e DSM_KEYSTORE_KEY_FILE=/run/secrets/keystore-key ${secret('keystore-key', 'e2e-keystore-key-0123456789')} ` +
          `-e DSM_API_TOKEN_FILE=/run/secrets/api-token ${secret('api-token', 'e2e-api-token-0123456789')}`,
      );
      timing('core image: docker run to healthy', await healthy('core'));
      await start('evm', IMAGES.evm, '--tmpfs /tmp:size=256m,mode=1777');
      timing('evm image: docker run to healthy', await healthy('evm'));
      // The bridge image's own command needs a deployed contract: the dev-chain start deploys one first.
      await start(
        'bridge',
        IMAGES.bridge,
        '-e DSM_BRIDGE_DSM_NODE=core:7545 -e DSM_BRIDGE_STORAGE_NODES=storage:8765 -e DSM_BRIDGE_REPLICATION_FACTOR=1 ' +
          '-e DSM_BRIDGE_ETHEREUM_RPC=http://evm:8545 -e DSM_BRIDGE_CHAIN_ID=31337 ' +
          `-e DSM_BRIDGE_DSM_KEY_FILE=/run/secrets/bridge-dsm-key ${secret('bridge-dsm-key', '11'.repeat(32))} ` +
          `-e DSM_BRIDGE_EVM_KEY_FILE=/run/secrets/bridge-evm-key ${secret('bridge-evm-key', DEV_KEYS[1])} ` +
          `-e DSM_DEV_CHAIN_DEPLOYER_KEY_FILE=/run/secrets/evm-deployer-key ${secret('evm-deployer-key', DEV_KEYS[0])}`,
        'node /app/dev-chain/bridge.mjs',
      );
      timing('bridge image: docker run to healthy (deploying its contract first)', await healthy('bridge'));
      // A read-only root: nothing changed in any container's own layer but the mount points Docker made
      // for the secret files.
      for (const name of ['storage', 'core', 'bridge']) {
        const { stdout } = await ok(`docker diff ${run}-${name}`);
        const changed = stdout
          .split('\n')
          .filter((l) => l !== '' && !/^A \/run(\/secrets(\/[\w-]+)?)?$/.test(l));
        expect([name, changed]).toEqual([name, []]);
      }
    }, 600_000);

    it('stop cleanly on SIGTERM, handled by the service as PID 1 (exit 0)', async () => {
      for (const name of ['bridge', 'core', 'storage']) {
        const t = Date.now();
        await ok(`docker stop -t 30 ${run}-${name}`);
        const { stdout } = await ok(`docker inspect -f '{{.State.ExitCode}}' ${run}-${name}`);
        expect([name, stdout.trim()]).toEqual([name, '0']);
        timing(`${name} image: SIGTERM to exit`, Date.now() - t);
      }
    }, 120_000);
  });
  describe('the operator image against a real kube-apiserver on loopback', () => {
    const name = `e2e-operator-${process.pid}`;
    const clusterDir = mkdtempSync(join(tmpdir(), 'dsm-e2e-operator-cluster-'));
    const env = { DSM_CLUSTER_DIR: clusterDir };
    let kubeconfig = '';
    let kubectl = '';

    beforeAll(async () => {
      // The control plane of the cluster tests (e2e/cluster), its own instance: etcd, kube-apiserver and
      // kube-controller-manager from the cache e2e/cluster/build.sh fills (prepare.sh builds them).
      kubeconfig = (await ok(`bash ${root}/e2e/cluster/up.sh`, { env, timeoutMs: 900_000 })).stdout.trim();
      kubectl = `${(await ok(`bash ${root}/e2e/cluster/build.sh kubectl`, { timeoutMs: 900_000 })).stdout.trim()}/kubectl --kubeconfig ${kubeconfig}`;
      await ok(`${kubectl} apply --server-side -f ${root}/crds/dsm.io_dsmclusters.yaml`);
    }, 900_000);

    afterAll(async () => {
      await sh(`docker rm -f -v ${name} 2>/dev/null`);
      await sh(`bash ${root}/e2e/cluster/down.sh`, { env });
      rmSync(clusterDir, { recursive: true, force: true });
    });

    it('becomes healthy, leads on its Lease, writes nothing outside its tmpfs, and releases the Lease on SIGTERM (exit 0)', async () => {
      const t = Date.now();
      // The apiserver listens on 127.0.0.1 only: the container shares the host's network. Its kubeconfig
      // and client certificate, readable by the image's user 1000, are mounted read-only at /kube.
      const kube = join(clusterDir, 'operator-kube');
      mkdirSync(kube);
      for (const file of ['ca.crt', 'admin.crt', 'admin.key'])
        copyFileSync(join(clusterDir, 'pki', file), join(kube, file));
      writeFileSync(
        join(kube, 'kubeconfig'),
        readFileSync(kubeconfig, 'utf8').replaceAll(`${clusterDir}/pki/`, '/kube/'),
      );
      if (process.getuid?.() === 0)
        for (const file of readdirSync(kube)) chownSync(join(kube, file), 1000, 1000);
      const ports = '-e DSM_OPERATOR_METRICS_PORT=18480 -e DSM_OPERATOR_HEALTH_PORT=18481';
      await ok(
        `docker run -d --name ${name} --network host --read-only --cap-drop ALL --security-opt no-new-privileges:true ` +
          `--tmpfs /tmp:size=16m --health-interval 1s -v ${kube}:/kube:ro -e KUBECONFIG=/kube/kubeconfig ` +
          `-e POD_NAME=${name} -e POD_NAMESPACE=default ${ports} ${IMAGES.operator}`,
      );
      await waitFor(
        'the operator container to be healthy',
        async () => {
          const { stdout } = await ok(
            `docker inspect -f '{{.State.Health.Status}} {{.State.Status}}' ${name}`,
          );
          if (stdout.includes('exited'))
            throw new Error(`exited: ${(await sh(`docker logs --tail 20 ${name}`)).stderr}`);
          return stdout.startsWith('healthy');
        },
        120_000,
        250,
      );
      timing('operator image: docker run to healthy', Date.now() - t);
      const holder = async () =>
        (
          await ok(`${kubectl} get lease dsm-operator-leader -n default -o jsonpath={.spec.holderIdentity}`)
        ).stdout.trim();
      await waitFor(
        'the operator to take its Lease',
        async () => (await holder()).startsWith(name),
        60_000,
        250,
      );
      const metrics = await ok('curl -sf http://127.0.0.1:18480/metrics');
      expect(metrics.stdout).toMatch(/^dsm_operator_is_leader 1$/m);
      // Nothing written to its own layer: only the mount points Docker made (/kube, /tmp) show.
      const { stdout: diff } = await ok(`docker diff ${name}`);
      expect(diff.split('\n').filter((l) => l !== '' && !/^[AC] \/(kube|tmp)$/.test(l))).toEqual([]);

      const stop = Date.now();
      await ok(`docker stop -t 30 ${name}`);
      expect((await ok(`docker inspect -f '{{.State.ExitCode}}' ${name}`)).stdout.trim()).toBe('0');
      timing('operator image: SIGTERM to exit', Date.now() - stop);
      // Released, so a standby would take over at once rather than after the lease duration.
      expect(await holder()).toBe('');
    }, 300_000);
  });
});
