/**
 * Every dashboard query returns data and every rule loads, on a real Prometheus that scraped the running
 * DSM network: `npm run dev`'s network (scripts/dev.mjs: two storage nodes, the core, the EVM dev chain and
 * the bridge) on free ports, two DSM operators (leader and standby) reconciling a DSMCluster on a control
 * plane of the suite's own on loopback (operator.ts), Debian's prometheus as a plain process with the
 * configuration of compose/prometheus/prometheus.yml (same jobs, labels and rule files; the targets moved to
 * the dev ports; a dsm-operator job added; scrape and evaluation every second), and traffic made through the
 * CLI and kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  DASHBOARDS,
  RULES_DIR,
  allRules,
  dashboardQueries,
  expandQuery,
  variableValues,
} from '@dsm/dashboards';
import { OperatorStack, type OperatorReplica } from './operator.js';
import {
  PrometheusProcess,
  ROOT,
  ensurePrometheus,
  recordPid,
  scratchDir,
  sleep,
  stopChild,
} from './tools.js';

/** What Grafana's $__rate_interval becomes here: many 1 s scrapes, and the traffic stays in the window. */
const RATE_WINDOW = '2m';
/** The dev chain's funded account 2 (a public test key of hardhat's dev mnemonic) and its address. */
const EVM_USER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const EVM_USER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

const queries = Object.entries(DASHBOARDS).flatMap(([file, build]) => {
  const dashboard = build();
  return dashboardQueries(dashboard).map((q) => ({
    name: `${file} "${q.panel}" ${q.refId}`,
    sent: expandQuery(q.expr, variableValues(dashboard), RATE_WINDOW),
  }));
});
const rules = allRules();

/** A base port with the next `count - 1` free as well. */
async function freeRun(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let all = true;
    for (let i = 0; i < count && all; i++) all = await free(base + i);
    if (all) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

const devDir = scratchDir('dsm-monitoring-');
let dev: ChildProcess | undefined;
let devOutput = '';
let forgetDev = (): void => undefined;
let prometheus: PrometheusProcess | undefined;
let operators: OperatorStack | undefined;
let env: Record<string, string> = {};
const timings: Record<string, number> = {};

/** The dev network's ports: storage primary (and replica on the next), core API and P2P, bridge, EVM. */
function devPorts(base: number) {
  return { storage: base, replica: base + 1, api: base + 2, p2p: base + 3, bridge: base + 4, evm: base + 5 };
}

async function startDev(ports: ReturnType<typeof devPorts>): Promise<void> {
  env = {
    DSM_DEV_DIR: devDir,
    DSM_DEV_STORAGE_PORT: String(ports.storage),
    DSM_DEV_API_PORT: String(ports.api),
    DSM_DEV_P2P_PORT: String(ports.p2p),
    DSM_DEV_BRIDGE_PORT: String(ports.bridge),
    DSM_DEV_EVM_PORT: String(ports.evm),
    DSM_URL: `http://127.0.0.1:${ports.api}`,
    DSM_ADMIN_URL: `http://127.0.0.1:${ports.p2p}`,
    DSM_BRIDGE_URL: `http://127.0.0.1:${ports.bridge}`,
    DSM_EVM_RPC: `http://127.0.0.1:${ports.evm}`,
    DSM_ADMIN_TOKEN_FILE: join(devDir, 'admin-token'),
    DSM_API_TOKEN_FILE: join(devDir, 'api-token'),
  };
  const child = spawn(process.execPath, [join(ROOT, 'scripts/dev.mjs')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev = child;
  forgetDev = recordPid('dev', child.pid);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the dev network did not start:\n${devOutput}`)),
      120_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      devOutput += d.toString();
      if (devOutput.includes('DSM network running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (devOutput += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the dev network exited with ${code}:\n${devOutput}`));
    });
  });
}

/**
 * compose/prometheus/prometheus.yml with each compose target replaced by the dev network's address, a
 * dsm-operator job for the operator replicas, every second, the rule files by their absolute path.
 */
function prometheusConfig(
  ports: ReturnType<typeof devPorts>,
  prometheusPort: number,
  replicas: readonly OperatorReplica[],
): string {
  const config = parse(readFileSync(join(ROOT, 'compose/prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      static_configs: { targets: string[]; labels?: Record<string, string> }[];
    }[];
  };
  const moved: Record<string, number> = {
    'dsm-core:8765': ports.p2p,
    'dsm-storage-primary:8765': ports.storage,
    'dsm-storage-replica:8765': ports.replica,
    'dsm-ethereum-bridge:8768': ports.bridge,
    'localhost:9090': prometheusPort,
  };
  for (const job of config.scrape_configs)
    for (const group of job.static_configs)
      group.targets = group.targets.map((target) => {
        const port = moved[target];
        if (port === undefined) throw new Error(`prometheus.yml: no dev address for target ${target}`);
        return `127.0.0.1:${port}`;
      });
  // prometheus.yml has no dsm-operator job because the compose stack runs no operator (it runs in
  // Kubernetes, where a ServiceMonitor finds it): this suite adds one so that the DSM Operator dashboard
  // (job="dsm-operator") is proven too. The other jobs' conventions: the job name is the one dashboards and
  // rules select, `instance` is the target's own address (one per replica, as each storage node's), no
  // `service` target label (dsm_http_request_duration_seconds has its own); `pod` names the replica as its
  // Lease holder identity does, as the Prometheus operator labels a pod's target.
  if (config.scrape_configs.some((job) => job.job_name === 'dsm-operator'))
    throw new Error('prometheus.yml has a dsm-operator job now: drop the one this suite adds');
  config.scrape_configs.push({
    job_name: 'dsm-operator',
    static_configs: replicas.map((r) => ({
      targets: [`127.0.0.1:${r.metricsPort}`],
      labels: { pod: r.name },
    })),
  });
  config.global = {
    ...config.global,
    scrape_interval: '1s',
    scrape_timeout: '1s',
    evaluation_interval: '1s',
  };
  config.rule_files = config.rule_files.map((pattern) => join(RULES_DIR, pattern.replace(/^rules\//, '')));
  return stringify(config);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'workloads/cli/bin/dsm.js'), ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 180_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(args: string[]): Promise<string> {
  const result = await cli(args);
  if (result.code !== 0)
    throw new Error(`dsm ${args.join(' ')} failed (${result.code}):\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

/**
 * What users do, so that every metric has a series: identities, a token under a policy, a transfer the
 * policy refuses and one it allows, a receive, a bridge deposit and withdrawal, and a malformed object sent
 * to a storage node (a rejection).
 */
async function traffic(storagePort: number): Promise<void> {
  const alice = await ok(['identity', 'create', '--label', 'alice', '--quiet']);
  const bob = await ok(['identity', 'create', '--label', 'bob', '--quiet']);
  const policy = join(devDir, 'gold-policy.json');
  writeFileSync(
    policy,
    JSON.stringify({
      description: 'gold: transfers up to 50.00 GLD, only between alice and bob',
      conditions: [
        { kind: 'amountLimit', op: 'token.transfer', max: '5000' },
        { kind: 'allowList', appliesTo: 'recipient', identities: [alice, bob] },
      ],
    }),
  );
  const gold = await ok([
    ...['token', 'create', '--as', alice, '--symbol', 'GLD', '--name', 'Gold', '--decimals', '2'],
    ...['--supply', '1000.00', '--policy', policy, '--quiet'],
  ]);
  const refused = await cli([
    'token',
    'transfer',
    '--as',
    alice,
    '--token',
    gold,
    '--amount',
    '60.00',
    '--to',
    bob,
  ]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr + refused.stdout).toContain('E_POLICY');
  const transfer = await ok([
    'token',
    'transfer',
    '--as',
    alice,
    '--token',
    gold,
    '--amount',
    '25.00',
    '--to',
    bob,
    '--quiet',
  ]);
  await ok(['token', 'receive', '--as', bob, '--transfer', transfer]);
  const silver = await ok([
    ...['token', 'create', '--as', alice, '--symbol', 'SLV', '--name', 'Silver', '--decimals', '2'],
    ...['--supply', '500.00', '--quiet'],
  ]);
  await ok([
    'bridge',
    'deposit',
    '--as',
    alice,
    '--token',
    silver,
    '--amount',
    '10.00',
    '--to',
    EVM_USER,
    '--wait',
  ]);
  const keyFile = join(devDir, 'evm-user-key');
  writeFileSync(keyFile, `${EVM_USER_KEY}\n`, { mode: 0o600 });
  await ok([
    'bridge',
    'withdraw',
    '--key-file',
    keyFile,
    '--token',
    silver,
    '--amount',
    '4.00',
    '--to',
    alice,
    '--wait',
  ]);
  const junk = await fetch(`http://127.0.0.1:${storagePort}/v1/objects`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
    body: 'not DAG-CBOR',
  });
  expect(junk.status).toBe(400);
}

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

const query = (expr: string) => prometheus!.api<QueryAnswer>('/api/v1/query', { query: expr });

/** Awaits all `steps` (none is left running when the suite cleans up), then throws the first failure. */
async function all(steps: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Waits until every dashboard query has a series (the scrapes after the traffic), at most `ms`. */
async function settle(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answers = await Promise.all(queries.map((q) => query(q.sent)));
    if (answers.every((a) => (a.data?.result.length ?? 0) > 0) || Date.now() > deadline) return;
    await sleep(1000);
  }
}

beforeAll(async () => {
  const started = Date.now();
  ensurePrometheus();
  const base = await freeRun(11);
  const ports = devPorts(base);
  const prometheusPort = base + 6;
  operators = new OperatorStack([
    { metrics: base + 7, health: base + 8 },
    { metrics: base + 9, health: base + 10 },
  ]);
  const stack = operators;
  // The dev network and the control plane start side by side (about 8 and 11 s).
  await all([startDev(ports).then(() => (timings.devStart = Date.now() - started)), stack.up()]);
  prometheus = new PrometheusProcess(prometheusPort);
  await prometheus.start(prometheusConfig(ports, prometheusPort, stack.replicas));
  const trafficStarted = Date.now();
  // Scraped from their start: the operators' counters are seen going up from 0.
  await all([
    traffic(ports.storage).then(() => (timings.traffic = Date.now() - trafficStarted)),
    stack.exercise(),
  ]);
  const settleStarted = Date.now();
  await settle(60_000);
  timings.settle = Date.now() - settleStarted;
  timings.setup = Date.now() - started;
}, 420_000);

afterAll(async () => {
  const op = operators?.timings ?? {};
  console.log(
    `monitoring e2e: dev network up in ${timings.devStart} ms, control plane ${op.clusterUp} ms, traffic ${timings.traffic} ms, operators ${op.operatorsUp} ms (with the DSMCluster applied and changed ${op.exercise} ms), scrapes settled in ${timings.settle} ms, setup ${timings.setup} ms`,
  );
  await prometheus?.stop();
  // Each operator hands back its Lease and exits 0 on SIGTERM, before the control plane goes.
  const operatorProblems = (await operators?.down()) ?? [];
  // dev.mjs stops every service cleanly on SIGINT (Ctrl-C); it is not expected to need more than 20 s.
  const stopped = !dev || (await stopChild(dev, 'SIGINT', 20_000));
  if (stopped) forgetDev();
  rmSync(devDir, { recursive: true, force: true });
  if (!stopped) throw new Error(`the dev network did not stop within 20 s:\n${devOutput.slice(-3000)}`);
  if (operatorProblems.length > 0) throw new Error(`${operatorProblems.join('\n')}\n${operators!.outputs()}`);
}, 60_000);

describe('Prometheus scraping the DSM network', () => {
  it('scrapes every target of prometheus.yml', async () => {
    const targets = await prometheus!.api<{
      data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
    }>('/api/v1/targets');
    const health = targets.data.activeTargets.map((t) => ({
      job: t.labels.job,
      health: t.health,
      lastError: t.lastError,
    }));
    expect(health.sort((a, b) => a.job!.localeCompare(b.job!))).toEqual(
      [
        'dsm-core',
        'dsm-ethereum-bridge',
        'dsm-operator',
        'dsm-operator',
        'dsm-storage',
        'dsm-storage',
        'prometheus',
      ].map((job) => ({
        job,
        health: 'up',
        lastError: '',
      })),
    );
  });

  it("scrapes one operator leading: the one holding the Lease, named by its target's pod label", async () => {
    const answer = await query('dsm_operator_is_leader{job="dsm-operator"}');
    const replicas = (answer.data?.result ?? []) as {
      metric: Record<string, string>;
      value: [number, string];
    }[];
    const leading = replicas.filter((r) => r.value[1] === '1').map((r) => r.metric.pod);
    expect({ replicas: replicas.length, leading: leading.length }).toEqual({ replicas: 2, leading: 1 });
    expect(await operators!.leaseHolder()).toMatch(new RegExp(`^${leading[0]}_`));
    expect(await operators!.leaders()).toEqual(leading);
  });

  it.each(queries.map((q): [string, string] => [q.name, q.sent]))('%s returns data', async (_name, expr) => {
    const answer = await query(expr);
    const series = answer.data?.result.length ?? 0;
    expect({ expr, status: answer.status, error: answer.error, someSeries: series > 0 }).toEqual({
      expr,
      status: 'success',
      error: undefined,
      someSeries: true,
    });
  });

  it.each(rules.map((r): [string, string] => [`${r.file} ${r.alert ?? r.record}`, r.expr]))(
    '%s evaluates',
    async (_name, expr) => {
      const answer = await query(expr);
      expect({ expr, status: answer.status, error: answer.error }).toEqual({
        expr,
        status: 'success',
        error: undefined,
      });
    },
  );

  it("e2e/monitoring/check-prometheus.mjs (for any Prometheus, e.g. the compose stack's) finds the same", async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(ROOT, 'e2e/monitoring/check-prometheus.mjs'), prometheus!.url, '--rate-window', RATE_WINDOW],
        { cwd: ROOT },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: stdout + stderr }),
      ),
    );
    expect(result).toEqual({
      code: 0,
      output: expect.stringContaining(`${queries.length} dashboard queries, ${queries.length} with data`),
    });
  });

  it('loads every rule with health ok', async () => {
    const answer = await prometheus!.api<{
      data: {
        groups: {
          name: string;
          file: string;
          rules: { name: string; health: string; lastError?: string }[];
        }[];
      };
    }>('/api/v1/rules');
    const loaded = answer.data.groups.flatMap((g) =>
      g.rules.map((r) => ({ group: g.name, name: r.name, health: r.health, lastError: r.lastError ?? '' })),
    );
    const expected = rules.map((r) => ({
      group: r.group,
      name: (r.alert ?? r.record)!,
      health: 'ok',
      lastError: '',
    }));
    const order = (a: { group: string; name: string }, b: { group: string; name: string }) =>
      `${a.group}/${a.name}`.localeCompare(`${b.group}/${b.name}`);
    expect(loaded.sort(order)).toEqual(expected.sort(order));
  });
});
