/**
 * The real operator (its bundle, operator/dist/bundle/dsm-operator.mjs, as the image runs it) as one process on the admin kubeconfig, every namespace watched,
 * metrics and health on free loopback ports; its /metrics read as numbers, its memory from /proc as well.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  METRIC,
  NODE_ENV as OPERATOR_NODE_ENV,
  NODE_FLAGS as OPERATOR_NODE_FLAGS,
  OPERATOR_BUNDLE,
} from '@dsm/operator';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format → samples by metric name (enough for counters and gauges). */
export function parseMetrics(text: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const list = out.get(match[1]!) ?? [];
    list.push({ labels, value: Number(match[3]) });
    out.set(match[1]!, list);
  }
  return out;
}

export const total = (m: Map<string, Sample[]>, name: string) =>
  (m.get(name) ?? []).reduce((sum, s) => sum + s.value, 0);

/** Leader election renews its Lease every retry period: an operator's write, but no reconcile's. */
const LEADER_KIND = 'Lease';

export interface Counters {
  /** dsm_operator_api_writes_total, the Lease renewals left out. */
  writes: number;
  byVerbKind: Record<string, number>;
  leaseWrites: number;
  reconciles: number;
  reconcileErrors: number;
  /** Sum of dsm_operator_reconcile_duration_seconds. */
  reconcileSeconds: number;
}

export function counters(m: Map<string, Sample[]>): Counters {
  const byVerbKind: Record<string, number> = {};
  let leaseWrites = 0;
  for (const s of m.get(METRIC.apiWrites) ?? []) {
    if (s.labels.kind === LEADER_KIND) leaseWrites += s.value;
    else byVerbKind[`${s.labels.verb} ${s.labels.kind}`] = s.value;
  }
  return {
    writes: Object.values(byVerbKind).reduce((a, b) => a + b, 0),
    byVerbKind,
    leaseWrites,
    reconciles: total(m, METRIC.reconcileTotal),
    reconcileErrors: total(m, METRIC.reconcileErrors),
    reconcileSeconds: total(m, `${METRIC.reconcileDuration}_sum`),
  };
}

/** `after - before`, keeping only what changed. */
export function delta(before: Counters, after: Counters): Counters {
  const byVerbKind: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byVerbKind)) {
    const d = v - (before.byVerbKind[k] ?? 0);
    if (d !== 0) byVerbKind[k] = d;
  }
  return {
    writes: after.writes - before.writes,
    byVerbKind,
    leaseWrites: after.leaseWrites - before.leaseWrites,
    reconciles: after.reconciles - before.reconciles,
    reconcileErrors: after.reconcileErrors - before.reconcileErrors,
    reconcileSeconds: after.reconcileSeconds - before.reconcileSeconds,
  };
}

export class OperatorProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private sampler: NodeJS.Timeout | undefined;
  /** Highest VmRSS seen by the sampler (bytes). */
  peakSampledRss = 0;
  /** Highest RssAnon seen by the sampler (bytes). */
  peakSampledAnon = 0;
  metricsPort = 0;
  workers = 0;

  async start(kubeconfig: string, settings: { workers: number; resyncMs: number }): Promise<void> {
    this.metricsPort = await freePort();
    const healthPort = await freePort();
    this.workers = settings.workers;
    const env: Record<string, string> = {};
    // Nothing of the caller's DSM_* or POD_* reaches the operator: only what is set here.
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('DSM_') && !k.startsWith('POD_')) env[k] = v;
    Object.assign(env, OPERATOR_NODE_ENV, {
      KUBECONFIG: kubeconfig,
      POD_NAME: 'dsm-operator-bench',
      DSM_OPERATOR_LEASE_NAMESPACE: 'default',
      DSM_OPERATOR_METRICS_PORT: String(this.metricsPort),
      DSM_OPERATOR_HEALTH_PORT: String(healthPort),
      DSM_OPERATOR_HOST: '127.0.0.1',
      DSM_OPERATOR_WORKERS: String(settings.workers),
      DSM_OPERATOR_RESYNC_MS: String(settings.resyncMs),
      DSM_OPERATOR_LOG_LEVEL: 'warn',
    });
    // The node flags and environment the image runs the operator with (Dockerfile): the shipped figures.
    const child = spawn(process.execPath, [...OPERATOR_NODE_FLAGS, OPERATOR_BUNDLE], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.sampler = setInterval(() => {
      const { VmRSS, RssAnon } = this.proc();
      if (VmRSS !== undefined && VmRSS > this.peakSampledRss) this.peakSampledRss = VmRSS;
      if (RssAnon !== undefined && RssAnon > this.peakSampledAnon) this.peakSampledAnon = RssAnon;
    }, 250);
    this.sampler.unref();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the operator logged (for errors). */
  tail(): string {
    return this.output.slice(-4000);
  }

  alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * VmRSS, VmHWM (its peak) and VmRSS's two parts (RssAnon: the process's own memory; RssFile: pages of
   * files it maps, the node executable above all, shared with every process mapping them), in bytes, from
   * /proc/<pid>/status.
   */
  proc(): { VmRSS?: number; VmHWM?: number; RssAnon?: number; RssFile?: number } {
    if (!this.alive()) return {};
    try {
      const text = readFileSync(`/proc/${this.child!.pid}/status`, 'utf8');
      const kb = (key: string) => {
        const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
        return m ? Number(m[1]) * 1024 : undefined;
      };
      return { VmRSS: kb('VmRSS'), VmHWM: kb('VmHWM'), RssAnon: kb('RssAnon'), RssFile: kb('RssFile') };
    } catch {
      return {};
    }
  }

  async metrics(): Promise<Map<string, Sample[]>> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return parseMetrics(await res.text());
  }

  async counters(): Promise<Counters> {
    return counters(await this.metrics());
  }

  /** Leader, informers listed (/readyz), within `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive()) throw new Error(`the operator exited: ${this.tail()}`);
      try {
        const m = await this.metrics();
        const ready = await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`, {
          signal: AbortSignal.timeout(5000),
        });
        if (total(m, METRIC.isLeader) === 1 && ready.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the operator was not leading and ready within ${timeoutMs} ms: ${this.tail()}`);
  }

  /** SIGTERM (the operator releases its Lease and exits 0), SIGKILL after 15 s. */
  async stop(): Promise<number | null> {
    clearInterval(this.sampler);
    const child = this.child;
    if (child === undefined || !this.alive()) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
