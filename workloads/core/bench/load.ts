/** The load the core bench generates: a fresh network per scenario and clients in closed loops. */
import { performance } from 'node:perf_hooks';
import { Network } from '@dsm/testkit';
import { CpuMeter, latency, round } from './measure.js';

/** How long and how wide each scenario runs. */
export interface Plan {
  /** Concurrent clients of each point, in order. */
  clients: number[];
  /** Seconds of load per point. */
  seconds: number;
  /** Seconds of unmeasured load (one client) before the first point. */
  warmupSeconds: number;
  /** At most this long (s) to wait, after the load stops, for what is still in flight (receives). */
  drainSeconds: number;
}

/** One concurrency point of a scenario. */
export interface Point {
  clients: number;
  /** How long the point ran: the window, and the drain after it where receives are counted. */
  seconds: number;
  /** Transfers completed (accepted, or received when receives are counted). */
  completed: number;
  perSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** CPU ms (user + system) per completed transfer of each process; loadgen is this bench process. */
  cpuMsPerTransfer: Record<string, number | null>;
}

/** What runs on a network: `meter()` starts measuring the CPU time of its processes. */
export type OnNetwork<T> = (net: Network, meter: () => CpuMeter) => Promise<T>;

/** Starts a network (2 storage nodes, R = 2, one core with `coreEnv`), runs `fn`, and destroys it whatever happens. */
export async function withNetwork<T>(coreEnv: Record<string, string>, fn: OnNetwork<T>): Promise<T> {
  const net = new Network();
  const stop = () => void net.destroy().finally(() => process.exit(130));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    await net.start({ storageNodes: 2, coreEnv: { DSM_LOG_LEVEL: 'error', ...coreEnv } });
    const pids = Object.fromEntries([net.core, ...net.storage].map((p) => [p.name, p.child!.pid!] as const));
    return await fn(net, () => new CpuMeter(pids));
  } catch (e) {
    // A process that died is the story, not the request that found its socket closed.
    for (const p of [...net.cores, ...net.storage])
      if (p.child && (p.child.exitCode !== null || p.child.signalCode !== null))
        console.error(
          `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.output.slice(-4000)}`,
        );
    throw e;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    await net.destroy();
  }
}

/**
 * `clients` loops calling `step(client)` until `seconds` have passed (a call under way finishes): the
 * point's throughput, latency and CPU per call.
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  meter: CpuMeter,
  step: (client: number) => Promise<boolean>,
): Promise<Point> {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await step(client))) return; // nothing left to send
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    clients,
    seconds: round(elapsed, 2),
    completed: latencies.length,
    perSecond: round(latencies.length / elapsed),
    ...latency(latencies),
    cpuMsPerTransfer: meter.perUnit(latencies.length),
  };
}

/** Throws unless the answer has one of the `expected` statuses. */
export function expectStatus<T extends { status: number; body: unknown }>(
  answer: T,
  what: string,
  ...expected: number[]
): T {
  if (!expected.includes(answer.status))
    throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
}

/** POSTs the DAG-CBOR bytes of a protocol object to `url` + `path`; status and parsed JSON answer. */
export async function postCbor(
  url: string,
  path: string,
  bytes: Uint8Array,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : {} };
}

/** Runs `fn` on the items with at most `width` at a time. */
export async function inParallel<T>(
  items: T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
