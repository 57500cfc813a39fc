/**
 * The DSM operator for the monitoring e2e: a Kubernetes control plane of the suite's own on loopback
 * (e2e/cluster/up.sh with DSM_CLUSTER_DIR in a temporary folder, never the shared /tmp/dsm-cluster), the
 * DSMCluster CRD, two operator processes (its bundle, as the image runs it) (leader and standby) and one DSMCluster
 * (examples/dsmcluster.yaml) whose spec changes once: reconciles, API writes, Events, the work queue and
 * reconcile durations then all have samples. No kubelet: the pods stay Pending and the cluster Progressing,
 * so the leader keeps requeueing it, which is what a rolling-out cluster looks like to the metrics.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, recordPid, scratchDir, sleep, stopChild } from './tools.js';

/** The namespace of the DSMCluster and of the leader Lease. */
export const NAMESPACE = 'dsm';
const CLUSTER = 'devnet';
const LEASE = 'dsm-operator-leader';

export interface OperatorReplica {
  /** POD_NAME: the Lease's holder identity starts with it. */
  name: string;
  metricsPort: number;
  healthPort: number;
  child?: ChildProcess;
  output: string;
  /** Drops run.sh's record of the process (tools.ts recordPid). */
  forget?: () => void;
}

function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number; input?: string },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: ROOT, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Polls `check` until it returns true, at most `ms`; the error names `what` and the last failure. */
async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = `: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last}`);
    await sleep(250);
  }
}

export class OperatorStack {
  /**
   * DSM_CLUSTER_DIR of up.sh and down.sh: in run.sh's folder (its exit trap runs down.sh on it if the suite
   * could not), else one of our own.
   */
  readonly dir = process.env.DSM_MONITORING_RUN_DIR
    ? join(process.env.DSM_MONITORING_RUN_DIR, 'cluster')
    : scratchDir('dsm-monitoring-cluster-');
  readonly replicas: OperatorReplica[];
  readonly timings: Record<string, number> = {};
  private kubeconfig?: string;
  private bin?: string;

  constructor(ports: { metrics: number; health: number }[]) {
    this.replicas = ports.map((p, i) => ({
      name: `dsm-operator-${String.fromCharCode(97 + i)}`,
      metricsPort: p.metrics,
      healthPort: p.health,
      output: '',
    }));
  }

  private get clusterEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DSM_CLUSTER_DIR: this.dir };
  }

  /** Starts the control plane (up.sh reuses the binaries build.sh cached; run.sh built them up front). */
  async up(): Promise<void> {
    const started = Date.now();
    this.bin = (
      await run(
        'bash',
        [join(ROOT, 'e2e/cluster/build.sh'), 'etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'],
        { timeoutMs: 60_000 },
      )
    ).stdout.trim();
    const { stdout } = await run('bash', [join(ROOT, 'e2e/cluster/up.sh')], {
      env: this.clusterEnv,
      timeoutMs: 120_000,
    });
    this.kubeconfig = stdout.trim().split('\n').pop()!;
    this.timings.clusterUp = Date.now() - started;
  }

  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    if (!this.bin || !this.kubeconfig) throw new Error('the control plane is not up');
    return run(join(this.bin, 'kubectl'), ['--kubeconfig', this.kubeconfig, ...args], {
      timeoutMs: 60_000,
      input,
    });
  }

  /**
   * The CRD and the namespace, both operators (one leads), the DSMCluster and one change of its spec, each
   * step waited for: the cluster's status.observedGeneration follows its generation.
   */
  async exercise(): Promise<void> {
    const started = Date.now();
    await this.kubectl(['apply', '--server-side', '-f', join(ROOT, 'crds/dsm.io_dsmclusters.yaml')]);
    await this.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/dsmclusters.dsm.io']);
    await this.kubectl(['create', 'namespace', NAMESPACE]);
    for (const replica of this.replicas) this.start(replica);
    await until(
      `one operator to lead and both to be ready (${this.outputs()})`,
      async () => {
        const ready = await Promise.all(
          this.replicas.map(async (r) => (await fetch(`http://127.0.0.1:${r.healthPort}/readyz`)).ok),
        );
        return ready.every(Boolean) && (await this.leaders()).length === 1;
      },
      30_000,
    );
    this.timings.operatorsUp = Date.now() - started;
    await this.kubectl(['apply', '-n', NAMESPACE, '-f', join(ROOT, 'examples/dsmcluster.yaml')]);
    await this.reconciled(1);
    await this.kubectl([
      ...['patch', '-n', NAMESPACE, `dsmcluster/${CLUSTER}`, '--type', 'merge'],
      // Scheduled backups too: the backup age panel and DsmBackupTooOld read what the operator exports for them.
      ...[
        '-p',
        JSON.stringify({
          spec: {
            storage: { replicas: 3 },
            backup: {
              schedule: '0 3 * * *',
              destination: { persistentVolumeClaim: { claimName: 'backups' } },
            },
          },
        }),
      ],
    ]);
    await this.reconciled(2);
    this.timings.exercise = Date.now() - started;
  }

  /** The replicas whose /metrics say they lead. */
  async leaders(): Promise<string[]> {
    const leading = await Promise.all(
      this.replicas.map(async (r) => {
        const text = await (await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`)).text();
        return /^dsm_operator_is_leader 1$/m.test(text);
      }),
    );
    return this.replicas.filter((_, i) => leading[i]).map((r) => r.name);
  }

  /** The Lease's holder identity (`<POD_NAME>_<suffix>`). */
  async leaseHolder(): Promise<string> {
    const { stdout } = await this.kubectl([
      ...['get', 'lease', LEASE, '-n', NAMESPACE],
      ...['-o', 'jsonpath={.spec.holderIdentity}'],
    ]);
    return stdout.trim();
  }

  private async reconciled(generation: number): Promise<void> {
    await until(
      `the operator to reconcile generation ${generation} of ${NAMESPACE}/${CLUSTER} (${this.outputs()})`,
      async () => {
        const { stdout } = await this.kubectl([
          ...['get', `dsmcluster/${CLUSTER}`, '-n', NAMESPACE],
          ...['-o', 'jsonpath={.metadata.generation} {.status.observedGeneration}'],
        ]);
        return stdout.trim() === `${generation} ${generation}`;
      },
      60_000,
    );
  }

  private start(replica: OperatorReplica): void {
    const child = spawn(process.execPath, [join(ROOT, 'operator/dist/bundle/dsm-operator.mjs')], {
      cwd: ROOT,
      env: {
        ...process.env,
        KUBECONFIG: this.kubeconfig,
        POD_NAME: replica.name,
        POD_NAMESPACE: NAMESPACE,
        DSM_OPERATOR_WATCH_NAMESPACES: NAMESPACE,
        DSM_OPERATOR_LEASE_NAMESPACE: NAMESPACE,
        DSM_OPERATOR_LEASE_NAME: LEASE,
        DSM_OPERATOR_METRICS_PORT: String(replica.metricsPort),
        DSM_OPERATOR_HEALTH_PORT: String(replica.healthPort),
        DSM_OPERATOR_HOST: '127.0.0.1',
        DSM_OPERATOR_RETRY_PERIOD_MS: '1000',
        DSM_OPERATOR_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    replica.child = child;
    replica.forget = recordPid(replica.name, child.pid);
    child.stdout!.on('data', (d: Buffer) => (replica.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (replica.output += d.toString()));
  }

  /** The last lines each operator wrote, for failure messages. */
  outputs(): string {
    return this.replicas
      .map((r) => `${r.name} (exit ${r.child?.exitCode}):\n${r.output.split('\n').slice(-15).join('\n')}`)
      .join('\n');
  }

  /**
   * SIGTERM to the operators (each stops its workers, hands back the Lease and exits 0; SIGKILL after 10 s),
   * then down.sh. Returns what did not stop cleanly.
   */
  async down(): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      this.replicas.map(async (r) => {
        if (!r.child) return;
        if (!(await stopChild(r.child, 'SIGTERM', 10_000))) {
          r.child.kill('SIGKILL');
          problems.push(`${r.name} did not stop within 10 s of SIGTERM`);
        } else if (r.child.exitCode !== 0)
          problems.push(`${r.name} exited with ${r.child.exitCode ?? r.child.signalCode}`);
        r.forget?.();
      }),
    );
    const down = spawnSync('bash', [join(ROOT, 'e2e/cluster/down.sh')], {
      env: this.clusterEnv,
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (down.status !== 0) problems.push(`down.sh exited with ${down.status}: ${down.stderr}`);
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}
