/**
 * The compose stack on a real Docker engine, as the deployment guide and compose/README.md promise it: the
 * README's walkthrough line for line (build, up, ps, identities, a token under a policy, transfer, receive,
 * the transfer on the replica's own API, config set, a bridge round trip on the dev chain, logs, ping); no
 * acknowledged transfer lost when the storage primary is killed during transfers; every dashboard query
 * answered and every alert rule loaded by a Prometheus scraping the stack; dsm-storage-extra added
 * with the guide's command, catching up; the bridge pointed at another EVM node by DSM_BRIDGE_ETHEREUM_RPC;
 * the data kept across `down` and `up`; backups of storage, core and bridge into the host folder and a restore
 * onto fresh volumes; the data gone after `down -v`. The file is also valid for docker-compose
 * 1.29. Runs under its own project name (dsm-e2e); e2e/docker/prepare.sh installed what it needs.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  PROJECT,
  composeDir,
  dsm,
  dsmJson,
  getJson,
  ok,
  freePort,
  port,
  root,
  sh,
  timing,
  waitFor,
} from './docker/stack.js';

interface Identity {
  identity: string;
  label?: string;
}
interface Balances {
  balances: Record<string, { available: string; locked: string }>;
}
interface TransferView {
  transfer: string;
  to: string;
  amount: string;
  received: boolean;
}
interface StorageStatus {
  nodeId: string;
  objects: number;
  digest: string;
}

/** The bash block of compose/README.md's walkthrough, with the replica's host port the tests publish. */
async function walkthrough(): Promise<string> {
  const readme = readFileSync(join(composeDir, 'README.md'), 'utf8');
  const section = readme.indexOf('## Walkthrough');
  const start = readme.indexOf('```bash\n', section) + '```bash\n'.length;
  const script = readme.slice(start, readme.indexOf('```', start));
  return script.replaceAll('127.0.0.1:8767', `127.0.0.1:${await port('DSM_PUBLISH_STORAGE_REPLICA')}`);
}

const storageUrl = async (name: 'DSM_PUBLISH_STORAGE_PRIMARY' | 'DSM_PUBLISH_STORAGE_REPLICA') =>
  `http://127.0.0.1:${await port(name)}`;

async function identities(): Promise<Record<string, string>> {
  const { identities: list } = await dsmJson<{ identities: Identity[] }>(['identity', 'list']);
  return Object.fromEntries(list.map((i) => [i.label ?? i.identity, i.identity]));
}

async function balances(identity: string): Promise<Balances['balances']> {
  return (await dsmJson<Balances>(['identity', 'balances', identity, '--raw'])).balances;
}

async function tokenOf(symbol: string, holder: string): Promise<string> {
  for (const token of Object.keys(await balances(holder))) {
    if ((await dsmJson<{ symbol: string }>(['token', 'show', token])).symbol === symbol) return token;
  }
  throw new Error(`${holder} holds no ${symbol}`);
}

/** The node script on stdin, run in `service` (its own Node.js; no curl in the images). */
const nodeIn = (service: string, script: string, env: Record<string, string> = {}) =>
  ok(`docker compose exec -T ${service} node --input-type=module`, { input: script, env });

/**
 * compose/prometheus/prometheus.yml for a Prometheus on this machine: each compose target replaced by the
 * port the stack publishes for it, scraping every second, the rule files by their absolute path.
 */
async function hostPrometheusConfig(prometheusPort: number): Promise<string> {
  const config = parse(readFileSync(join(composeDir, 'prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const published: Record<string, number> = {
    'dsm-core:8765': await port('DSM_PUBLISH_CORE_P2P'),
    'dsm-storage-primary:8765': await port('DSM_PUBLISH_STORAGE_PRIMARY'),
    'dsm-storage-replica:8765': await port('DSM_PUBLISH_STORAGE_REPLICA'),
    'dsm-ethereum-bridge:8768': await port('DSM_PUBLISH_BRIDGE'),
    'localhost:9090': prometheusPort,
  };
  for (const job of config.scrape_configs)
    for (const group of job.static_configs)
      group.targets = group.targets.map((target) => {
        const p = published[target];
        if (p === undefined) throw new Error(`prometheus.yml: the stack publishes no port for ${target}`);
        return `127.0.0.1:${p}`;
      });
  config.global = {
    ...config.global,
    scrape_interval: '1s',
    scrape_timeout: '1s',
    evaluation_interval: '1s',
  };
  config.rule_files = config.rule_files.map((f) => join(composeDir, 'prometheus', f));
  return stringify(config);
}

/** How each service of the project is doing (`docker compose ps --format json`). */
async function health(): Promise<Record<string, string>> {
  const { stdout } = await ok('docker compose ps --all --format json');
  const rows = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { Service: string; Health: string; State: string });
  return Object.fromEntries(rows.map((r) => [r.Service, r.Health || r.State]));
}

describe('the compose stack', () => {
  let prometheus: ChildProcess | undefined;
  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    if (process.env.DSM_E2E_KEEP === '1') return;
    await sh(
      'docker compose --profile extra -f docker-compose.yml -f ../e2e/docker/compose.external-evm.yml down -v --remove-orphans --timeout 20',
    );
  }, 120_000);

  it('is a valid file for docker-compose 1.29 and Compose v2', async () => {
    await ok('docker-compose -f docker-compose.yml config -q');
    await ok('docker-compose -f docker-compose.yml --profile monitoring --profile extra config -q');
    await ok('docker compose -f docker-compose.yml --profile monitoring --profile extra config -q');
  });

  it('runs the walkthrough of compose/README.md, line for line', async () => {
    // A stack left by an interrupted run of this test would keep its data.
    await ok('docker compose --profile extra down -v --remove-orphans --timeout 20');
    const script = await walkthrough();
    const result = await sh(script, { cwd: root, timeoutMs: 900_000 });
    const output = result.stdout + result.stderr;
    if (result.code !== 0)
      throw new Error(`the walkthrough failed (exit ${result.code}):\n${output.slice(-6000)}`);
    timing('walkthrough (build, up, CLI, bridge round trip)', result.ms);
    // docker compose ps: every service of the guide, up.
    for (const service of ['dsm-core', 'dsm-storage-primary', 'dsm-storage-replica', 'dsm-ethereum-bridge']) {
      expect(output).toMatch(new RegExp(`${PROJECT}-${service}-1 .* Up `));
    }
    expect(output).toMatch(/error E_POLICY: policy condition 0 \(amountLimit\) failed/);
    expect(output).toMatch(/refused by the policy, as it should be/);
    expect(output).toMatch(/\b25\.00\b/);
    // The replica's own HTTP API has the transfer.
    expect(output).toMatch(/"transfer":"bafyr4i\w+","from":"bafyr4i\w+".*"amount":"2500"/);
    expect(output).toMatch(/OK: 2\/2 states of bafyr4i\w+ verified/);
    expect(output).toMatch(/policyCacheSize:\s+2000/);
    expect(output).toMatch(/policyTtl:\s+7200/);
    expect(output).toMatch(/deposit minted by mint 0x[0-9a-f]{64} \(block \d+\)/);
    expect(output).toMatch(/withdrawal released by bafyr4i\w+/);
    expect(output).toMatch(/\b494\.00\b/);
    expect(output).toMatch(/1 packets transmitted, 1 received/);
    // docker compose logs: the core's own JSON lines.
    expect(output).toMatch(/dsm-core-1 +\| \{"level":"info"/);
    expect(Object.values(await health()).every((h) => h === 'healthy')).toBe(true);
  });

  it('loses no acknowledged transfer when the storage primary is killed during transfers', async () => {
    const { alice, bob } = await identities();
    const silver = await tokenOf('SLV', alice as string);
    const before = BigInt((await balances(bob as string))[silver]?.available ?? '0');
    // Transfers one after the other inside the core container; the primary is killed after the first few.
    const loop = `i=0; while [ $i -lt 24 ]; do i=$((i+1));
      if t=$(cli token transfer --as ${alice} --token ${silver} --amount 1.00 --to ${bob} --quiet 2>/tmp/err);
      then echo "ack $t"; else echo "fail $(cat /tmp/err)"; fi; done`;
    const transfers = sh('docker compose exec -T dsm-core sh -s', { input: loop, timeoutMs: 600_000 });
    // Killed once the first transfers are through (bob received them), while the loop goes on.
    await waitFor(
      'the first transfers',
      async () => {
        const b = BigInt((await balances(bob as string))[silver]?.available ?? '0');
        return b >= before + 200n ? true : undefined;
      },
      120_000,
      250,
    );
    await ok('docker compose kill -s SIGKILL dsm-storage-primary');
    await new Promise((r) => setTimeout(r, 8000));
    const back = Date.now();
    await ok('docker compose up -d --wait dsm-storage-primary');
    timing('storage primary restart to healthy', Date.now() - back);
    const { stdout } = await transfers;
    const acked = [...stdout.matchAll(/^ack (\S+)$/gm)].map((m) => m[1] as string);
    const failed = [...stdout.matchAll(/^fail (.*)$/gm)].map((m) => m[1] as string);
    process.stderr.write(
      `e2e: ${acked.length} transfers acknowledged, ${failed.length} refused while the primary was down\n`,
    );
    // Every attempt answered; some while the primary was down (the kill fell among the transfers).
    expect(acked.length + failed.length).toBe(24);
    expect(failed.length).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThan(2);
    // A refusal while the primary was down is an unknown outcome (503), never a wrong answer.
    for (const f of failed) expect(f).toMatch(/E_UNAVAILABLE/);
    // Every acknowledged transfer is on both storage nodes, and bob received each of them.
    for (const base of [
      await storageUrl('DSM_PUBLISH_STORAGE_PRIMARY'),
      await storageUrl('DSM_PUBLISH_STORAGE_REPLICA'),
    ]) {
      for (const transfer of acked) {
        const view = await waitFor(`${transfer} on ${base}`, async () => {
          const v = await getJson<TransferView>(`${base}/v1/transfers/${transfer}`);
          return v?.received === true ? v : undefined;
        });
        expect([view.to, view.amount]).toEqual([bob, '100']);
      }
    }
    const after = await waitFor('bob to hold every acknowledged transfer', async () => {
      const b = BigInt((await balances(bob as string))[silver]?.available ?? '0');
      return b >= before + 100n * BigInt(acked.length) ? b : undefined;
    });
    // Transfers whose outcome was unknown may have gone through as well, never more than were tried.
    expect(after - before).toBeLessThanOrEqual(100n * 24n);
  });

  it("gives Prometheus every series the dashboards query, and every rule loads (a Prometheus of this machine on the stack's ports)", async () => {
    // Grafana's and Prometheus's images cannot be pulled here: Debian's prometheus scrapes the published ports
    // with compose/prometheus/'s jobs and rules, and e2e/monitoring/check-prometheus.mjs checks it.
    await ok('bash e2e/monitoring/ensure-prometheus.sh', { cwd: root, timeoutMs: 300_000 });
    // A rejection, so that the storage rejection series exist.
    const junk = await fetch(`${await storageUrl('DSM_PUBLISH_STORAGE_PRIMARY')}/v1/objects`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
      body: 'not DAG-CBOR',
    });
    expect(junk.status).toBe(400);
    const dir = mkdtempSync(join(tmpdir(), 'dsm-e2e-prometheus-'));
    try {
      const listen = await freePort();
      writeFileSync(join(dir, 'prometheus.yml'), await hostPrometheusConfig(listen));
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${listen}`,
        ],
        { stdio: 'ignore' },
      );
      const url = `http://127.0.0.1:${listen}`;
      await waitFor('Prometheus to be ready', async () =>
        (await fetch(`${url}/-/ready`)).ok ? true : undefined,
      );
      // Some scrapes and rule evaluations first (every second).
      await waitFor(
        'every target to be scraped',
        async () => {
          const targets = await getJson<{ data: { activeTargets: { health: string }[] } }>(
            `${url}/api/v1/targets`,
          );
          const active = targets?.data.activeTargets ?? [];
          return active.length > 0 && active.every((t) => t.health === 'up') ? true : undefined;
        },
        60_000,
      );
      await new Promise((r) => setTimeout(r, 10_000));
      // The compose stack runs no operator: its dashboard is proven by the monitoring e2e, which scrapes one.
      const check = await sh(
        `node e2e/monitoring/check-prometheus.mjs ${url} --rate-window 2m --skip dsm-operator.json`,
        { cwd: root },
      );
      process.stderr.write(`e2e: ${check.stdout.split('\n')[0]}\n`);
      if (check.code !== 0) throw new Error(`check-prometheus.mjs failed:\n${check.stdout}${check.stderr}`);
    } finally {
      prometheus?.kill('SIGTERM');
      prometheus = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds dsm-storage-extra as the guide says, and it catches up', async () => {
    const started = Date.now();
    await ok('docker compose up -d --wait dsm-storage-extra');
    const added = await ok(
      'docker compose exec dsm-core /usr/local/bin/cli topology add-peer dsm-storage-extra:8765',
    );
    expect(added.stdout).toMatch(/dsm-storage-extra:8765: added/);
    const primary = await getJson<StorageStatus>(
      `${await storageUrl('DSM_PUBLISH_STORAGE_PRIMARY')}/v1/status`,
    );
    const extraStatus = async () =>
      JSON.parse(
        (await ok('docker compose exec -T dsm-storage-extra /usr/local/bin/cli status --json')).stdout,
      ) as StorageStatus;
    await waitFor(
      'dsm-storage-extra to hold what the primary holds',
      async () => ((await extraStatus()).objects >= (primary?.objects ?? Infinity) ? true : undefined),
      120_000,
      1000,
    );
    timing('dsm-storage-extra start to caught up', Date.now() - started);
    // New writes reach it too: the core writes to every storage node it has.
    const { alice, bob } = await identities();
    const silver = await tokenOf('SLV', alice as string);
    const transfer = (
      await ok(
        `docker compose exec -T dsm-core /usr/local/bin/cli token transfer --as ${alice} --token ${silver} --amount 1.00 --to ${bob} --quiet`,
      )
    ).stdout.trim();
    await waitFor('the new transfer on dsm-storage-extra', async () => {
      const r = await dsm(['--url', 'http://dsm-storage-extra:8765', 'status', '--json']);
      const status = JSON.parse(r.stdout) as StorageStatus;
      const primaryNow = await getJson<StorageStatus>(
        `${await storageUrl('DSM_PUBLISH_STORAGE_PRIMARY')}/v1/status`,
      );
      return status.digest === primaryNow?.digest ? true : undefined;
    });
    expect(transfer).toMatch(/^bafyr4i\w+$/);
    // Back to the guide's two storage nodes for what follows.
    await ok(
      'docker compose exec -T dsm-core /usr/local/bin/cli topology remove-peer dsm-storage-extra:8765',
    );
    await ok('docker compose rm -s -f dsm-storage-extra');
  });

  it('points the bridge at another EVM node by changing DSM_BRIDGE_ETHEREUM_RPC', async () => {
    const external = {
      COMPOSE_FILE: `${(await sh('echo "$COMPOSE_FILE"')).stdout.trim()}:../e2e/docker/compose.external-evm.yml`,
    };
    await ok('docker compose up -d --wait evm-external', { env: external });
    const switched = { ...external, DSM_BRIDGE_ETHEREUM_RPC: 'http://evm-external:8545' };
    await ok('docker compose up -d --wait dsm-ethereum-bridge', { env: switched });
    const { stdout: logs } = await ok('docker compose logs dsm-ethereum-bridge', { env: switched });
    expect(logs).toMatch(
      /"msg":"dev chain: deployed DsmBridge; the bridge journal starts afresh","rpc":"http:\/\/evm-external:8545"/,
    );
    // A deposit is minted on the external chain, not on the dev chain.
    const { alice } = await identities();
    const silver = await tokenOf('SLV', alice as string);
    const deposit = await ok(
      `docker compose exec -T dsm-core /usr/local/bin/cli bridge deposit --as ${alice} --token ${silver} --amount 1.00 --to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --wait`,
      { env: switched },
    );
    const mint = /deposit minted by mint (0x[0-9a-f]{64})/.exec(deposit.stdout)?.[1];
    expect(mint).toBeDefined();
    const receipt = (service: string) =>
      nodeIn(
        service,
        `const r = await fetch('http://127.0.0.1:8545', { method: 'POST', headers: { 'content-type': 'application/json' },
           body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionReceipt', params: ['${mint}'] }) });
         console.log(JSON.stringify((await r.json()).result?.status ?? null));`,
        switched,
      );
    expect((await receipt('evm-external')).stdout.trim()).toBe('"0x1"');
    expect((await receipt('evm-devchain')).stdout.trim()).toBe('null');
    // Back to the dev chain: the variable unset, the bridge deploys there again.
    await ok('docker compose up -d --wait dsm-ethereum-bridge', { env: external });
    await ok('docker compose rm -s -f evm-external', { env: external });
  });

  it('keeps the data across docker compose down and up', async () => {
    const { alice, bob } = await identities();
    const before = { alice: await balances(alice as string), bob: await balances(bob as string) };
    await ok('docker compose down --timeout 30');
    const started = Date.now();
    await ok('docker compose up -d --wait');
    timing('docker compose up -d --wait, existing volumes (start to healthy)', Date.now() - started);
    expect(await identities()).toMatchObject({ alice, bob });
    expect({ alice: await balances(alice as string), bob: await balances(bob as string) }).toEqual(before);
    // The bridge works on the new dev chain: a deposit is minted there.
    const silver = await tokenOf('SLV', alice as string);
    const deposit = await ok(
      `docker compose exec -T dsm-core /usr/local/bin/cli bridge deposit --as ${alice} --token ${silver} --amount 1.00 --to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --wait`,
    );
    expect(deposit.stdout).toMatch(/deposit minted by mint 0x[0-9a-f]{64}/);
  });

  it("backs up into the host folder with compose/README.md's commands and restores onto fresh volumes", async () => {
    const { alice, bob } = await identities();
    const before = { alice: await balances(alice as string), bob: await balances(bob as string) };
    const backup = (args: string) => ok(`docker compose run --rm dsm-backup backup ${args}`);
    const storage = JSON.parse(
      (await backup('create --storage dsm-storage-primary:8765 --out storage.car --json')).stdout,
    ) as { counts: { objects: number }; digest: string };
    expect(storage.counts.objects).toBeGreaterThan(0);
    await backup('create --core dsm-core:8765 --out core.car');
    await backup('create --bridge dsm-ethereum-bridge:8768 --out bridge.car');
    // The files are on the host, whole, and check out offline.
    for (const file of ['storage.car', 'core.car', 'bridge.car'])
      expect(readFileSync(join(composeDir, 'backups', file)).length).toBeGreaterThan(0);
    expect((await backup('inspect core.car')).stdout).toMatch(/dsm-core store snapshot: \d+ entries/);

    await ok('docker compose down -v --timeout 30');
    const started = Date.now();
    await ok('docker compose up -d --wait', {
      env: { DSM_STORAGE_RESTORE_FROM: '/backups/storage.car', DSM_CORE_RESTORE_FROM: '/backups/core.car' },
    });
    timing(
      'docker compose up -d --wait, restoring storage and core (start to healthy)',
      Date.now() - started,
    );
    const primary = await getJson<StorageStatus>(
      `${await storageUrl('DSM_PUBLISH_STORAGE_PRIMARY')}/v1/status`,
    );
    expect(primary?.digest).toBe(storage.digest);
    expect(await identities()).toMatchObject({ alice, bob });
    expect({ alice: await balances(alice as string), bob: await balances(bob as string) }).toEqual(before);
    // The restored keystore signs: alice pays bob once more.
    const gold = await tokenOf('GLD', alice as string);
    await ok(
      `docker compose exec -T dsm-core /usr/local/bin/cli token transfer --as ${alice} --token ${gold} --amount 1.00 --to ${bob}`,
    );
  });

  it('removes the data with docker compose down -v', async () => {
    const volumes = async () =>
      (await ok(`docker volume ls -q --filter label=com.docker.compose.project=${PROJECT}`)).stdout
        .split('\n')
        .filter(Boolean);
    expect(await volumes()).toEqual(
      expect.arrayContaining([`${PROJECT}_dsm-core-data`, `${PROJECT}_dsm-storage-primary-data`]),
    );
    await ok('docker compose down -v --timeout 30');
    // The extra storage node's volumes belong to its profile: `--profile extra down -v` removes those too.
    expect((await volumes()).filter((v) => !v.startsWith(`${PROJECT}_dsm-storage-extra-`))).toEqual([]);
    await ok('docker compose --profile extra down -v --timeout 30');
    expect(await volumes()).toEqual([]);
    // Up again on fresh volumes: nothing of before (and the time a first start takes to be ready).
    const started = Date.now();
    await ok('docker compose up -d --wait');
    timing('docker compose up -d --wait, fresh volumes (start to healthy)', Date.now() - started);
    expect(await identities()).toEqual({});
    await ok('docker compose down -v --timeout 30');
  });
});
