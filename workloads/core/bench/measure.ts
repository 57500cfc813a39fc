/**
 * What the core bench measures with: latency percentiles, the CPU time each process spends (from
 * /proc/<pid>/stat), and the signature ceilings of the suite, measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { STATE_CONTEXT, nodeBackend, type SignatureSuite } from '@dsm/protocol';

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** p50 and p99 of `samples` (ms); null without samples. */
export function latency(samples: number[]): { p50Ms: number | null; p99Ms: number | null } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

const TICK_MS = 1000 / (Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100);

/** User + system CPU time (ms) of a process so far, every thread included. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is the first, utime and stime the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU time spent from its creation on by each named process, and by this one (`loadgen`). */
export class CpuMeter {
  private readonly from: Record<string, number>;

  constructor(private readonly pids: Record<string, number>) {
    this.from = this.read();
  }

  private read(): Record<string, number> {
    const usage = process.cpuUsage();
    return {
      ...Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, cpuMsOf(pid)])),
      loadgen: (usage.user + usage.system) / 1000,
    };
  }

  /** CPU ms per unit of work (`count` units since creation), by process. */
  perUnit(count: number): Record<string, number | null> {
    const now = this.read();
    return Object.fromEntries(
      Object.entries(now).map(([name, ms]) => [
        name,
        count === 0 ? null : round((ms - this.from[name]!) / count, 2),
      ]),
    );
  }
}

/** Operations per second of `op`, run sequentially for about `seconds`. */
function rate(op: () => void, seconds: number): number {
  for (let i = 0; i < 20; i++) op(); // warm-up
  const started = performance.now();
  let count = 0;
  let elapsed = 0;
  do {
    for (let i = 0; i < 20; i++) op();
    count += 20;
    elapsed = performance.now() - started;
  } while (elapsed < seconds * 1000);
  return count / (elapsed / 1000);
}

export interface Ceilings {
  suite: SignatureSuite;
  cores: number;
  signPerSecond: number;
  verifyPerSecond: number;
  /** Transfers/s the signature work alone allows on every core (issue 13). */
  bounds: { hosted: number; hostedWithReceives: number; clientSigned: number };
}

/**
 * Sign and verify rates of `suite` with the node:crypto backend (one core, sequential), and the bounds of
 * issue 13: a hosted transfer is one sign and three verifications (core, two storage nodes), its receive as
 * many again; a client-signed state is three verifications.
 */
export function ceilings(suite: SignatureSuite, seconds: number): Ceilings {
  const keys = nodeBackend.keygen(suite);
  const message = randomBytes(36); // the size of a state id, which is what a state signature covers
  const sign = rate(() => nodeBackend.sign(suite, keys.secretKey, message, STATE_CONTEXT), seconds);
  const sig = nodeBackend.sign(suite, keys.secretKey, message, STATE_CONTEXT);
  const verify = rate(() => {
    if (!nodeBackend.verify(suite, keys.publicKey, message, sig, STATE_CONTEXT)) throw new Error('verify');
  }, seconds);
  const cores = availableParallelism();
  return {
    suite,
    cores,
    signPerSecond: round(sign),
    verifyPerSecond: round(verify),
    bounds: {
      hosted: round(cores / (1 / sign + 3 / verify)),
      hostedWithReceives: round(cores / (2 / sign + 6 / verify)),
      clientSigned: round(cores / (3 / verify)),
    },
  };
}
