/** Time-boxed throughput measurement: repeat until both a minimum count and a minimum duration are reached. */
import { performance } from 'node:perf_hooks';

export interface Rate {
  /** Operations per second. */
  perSecond: number;
  iterations: number;
  seconds: number;
}

export function measure(
  fn: () => unknown,
  options: { minSeconds?: number; minIterations?: number } = {},
): Rate {
  const minMs = (options.minSeconds ?? 1) * 1000;
  const minIterations = options.minIterations ?? 5;
  fn(); // warm-up: JIT, key import caches
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (iterations < minIterations || elapsed < minMs) {
    fn();
    iterations++;
    elapsed = performance.now() - start;
  }
  return { perSecond: round((iterations * 1000) / elapsed), iterations, seconds: round(elapsed / 1000) };
}

export async function measureOnce(fn: () => Promise<number>): Promise<Rate> {
  const start = performance.now();
  const iterations = await fn();
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: round(iterations / seconds), iterations, seconds: round(seconds) };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
