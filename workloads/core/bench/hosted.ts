/**
 * Hosted transfers: each client is a hosted sender with its own token paying `amount 1` to its own hosted
 * recipient (one recipient per client, so receives of different identities may run in parallel).
 */
import { performance } from 'node:perf_hooks';
import { coreRoutes, pathOf } from '@dsm/api';
import type { Network } from '@dsm/testkit';
import { closedLoop, expectStatus, inParallel, type Plan, type Point } from './load.js';
import { latency, round, sleep, type CpuMeter } from './measure.js';

/** A sender, its token and its recipient; `sent` counts every transfer it ever sent (all to `recipient`). */
interface Pair {
  sender: string;
  recipient: string;
  token: string;
  sent: number;
  /** The recipient's height before it received anything. */
  start: number;
}

/**
 * How a recipient is polled while it has transfers outstanding: every eighth of the oldest one's age (a
 * receive is seen at most 1/8 of its latency late), never more often than MIN_POLL_MS nor than a share of
 * POLLS_PER_SECOND (all recipients together), nor less often than MAX_POLL_MS.
 */
const POLLS_PER_SECOND = 500;
const MIN_POLL_MS = 10;
const MAX_POLL_MS = 500;
const POLL_AGE_SHARE = 1 / 8;

async function createPair(net: Network, i: number): Promise<Pair> {
  const create = async (label: string) =>
    expectStatus(
      await net.core.call<{ identity: string }>('POST', coreRoutes.createIdentity.path, { label }),
      'create identity',
      201,
    ).body.identity;
  const [sender, recipient] = await Promise.all([create(`sender-${i}`), create(`recipient-${i}`)]);
  const token = expectStatus(
    await net.core.call<{ token: string }>('POST', pathOf(coreRoutes.createToken, { id: sender }), {
      symbol: 'B',
      name: 'Bench',
      initialSupply: '1000000000',
      policy: { conditions: [{ kind: 'amountLimit', op: 'token.transfer', max: '100' }] },
    }),
    'create token',
    201,
  ).body.token;
  const pair = { sender, recipient, token, sent: 0, start: 0 };
  pair.start = await receivedBy(net, pair);
  return pair;
}

/** Grows `pairs` to `count` (the points reuse the pairs of the points before them). */
async function grow(net: Network, pairs: Pair[], count: number): Promise<Pair[]> {
  const fresh = Array.from({ length: Math.max(0, count - pairs.length) }, (_, k) => pairs.length + k);
  await inParallel(fresh, 8, async (i) => {
    pairs[i] = await createPair(net, i);
  });
  return pairs.slice(0, count);
}

async function transfer(net: Network, pair: Pair): Promise<void> {
  pair.sent++;
  expectStatus(
    await net.core.call('POST', pathOf(coreRoutes.transfer, { id: pair.sender }), {
      token: pair.token,
      amount: '1',
      to: pair.recipient,
    }),
    'transfer',
    201,
  );
}

/** Transfers the recipient has received: its height (state 0 is its genesis state, every later one a receive). */
async function receivedBy(net: Network, pair: Pick<Pair, 'recipient'>): Promise<number> {
  return expectStatus(
    await net.core.call<{ n: number }>('GET', pathOf(coreRoutes.balances, { id: pair.recipient })),
    'balances',
    200,
  ).body.n;
}

/** (a) Hosted transfers, counted when the core accepts them (DSM_AUTO_RECEIVE=false: nothing receives). */
export async function hostedTransfers(net: Network, plan: Plan, meter: () => CpuMeter): Promise<Point[]> {
  const pairs: Pair[] = [];
  const run = async (clients: number, seconds: number) => {
    const active = await grow(net, pairs, clients);
    return closedLoop(clients, seconds, meter(), async (i) => {
      await transfer(net, active[i]!);
      return true;
    });
  };
  await run(1, plan.warmupSeconds);
  const points: Point[] = [];
  for (const clients of plan.clients) points.push(await run(clients, plan.seconds));
  return points;
}

/** A point of (b): the receive-side figures besides throughput and latency. */
export interface ReceivedPoint extends Point {
  /** Transfers accepted during the window. */
  sent: number;
  receivedInWindow: number;
  /** Seconds from the end of the window to the last receive seen. */
  drainS: number;
  /** Sent but not seen received when the drain limit ran out. */
  undrained: number;
  /** The shortest interval between two polls of one recipient (longer as the outstanding transfer ages). */
  pollFloorMs: number;
  pollsPerTransfer: number;
}

/**
 * One point of (b): `clients` senders in closed loops for `seconds`, each transfer's latency running from
 * its send until a poll of its recipient shows it received (receives of one recipient are counted in send
 * order); throughput counts receives over the window and the drain after it.
 */
async function receivedPoint(
  net: Network,
  pairs: Pair[],
  seconds: number,
  drainSeconds: number,
  meter: CpuMeter,
): Promise<ReceivedPoint> {
  const floorMs = Math.max(MIN_POLL_MS, (pairs.length * 1000) / POLLS_PER_SECOND);
  // What each recipient's height is once everything sent before this point is received.
  const base = pairs.map((p) => p.start + p.sent);
  const sentAt: number[][] = pairs.map(() => []);
  const latencies: number[] = [];
  let receivedInWindow = 0;
  let lastSeen = 0;
  let polls = 0;
  let sending = true;
  const started = performance.now();
  const end = started + seconds * 1000;
  let deadline = Infinity;
  const senders = pairs.map(async (pair, i) => {
    while (performance.now() < end) {
      sentAt[i]!.push(performance.now());
      await transfer(net, pair);
    }
  });
  const pollers = pairs.map(async (pair, i) => {
    const times = sentAt[i]!;
    let seen = 0;
    while ((sending || seen < times.length) && performance.now() < deadline) {
      if (seen < times.length) {
        polls++;
        const received = Math.min(times.length, (await receivedBy(net, pair)) - base[i]!);
        const now = performance.now();
        for (; seen < received; seen++) {
          latencies.push(now - times[seen]!);
          if (now <= end) receivedInWindow++;
          lastSeen = Math.max(lastSeen, now);
        }
      }
      const age = seen < times.length ? performance.now() - times[seen]! : 0;
      await sleep(Math.min(MAX_POLL_MS, Math.max(floorMs, age * POLL_AGE_SHARE)));
    }
  });
  const polling = Promise.all(pollers);
  polling.catch(() => undefined); // awaited below: a failing sender must not leave it unhandled meanwhile
  try {
    await Promise.all(senders);
  } catch (e) {
    deadline = 0;
    throw e;
  }
  sending = false;
  const stopped = performance.now();
  deadline = stopped + drainSeconds * 1000;
  await polling;
  const sent = sentAt.reduce((sum, times) => sum + times.length, 0);
  const elapsed = (Math.max(lastSeen, stopped) - started) / 1000;
  return {
    clients: pairs.length,
    seconds: round(elapsed, 2),
    completed: latencies.length,
    perSecond: round(latencies.length / elapsed),
    ...latency(latencies),
    cpuMsPerTransfer: meter.perUnit(latencies.length),
    sent,
    receivedInWindow,
    drainS: round(Math.max(0, lastSeen - stopped) / 1000, 2),
    undrained: sent - latencies.length,
    pollFloorMs: round(floorMs),
    pollsPerTransfer: latencies.length === 0 ? 0 : round(polls / latencies.length, 2),
  };
}

/** (b) Hosted transfers counted when their recipient has received them (DSM_AUTO_RECEIVE=true). */
export async function hostedReceived(
  net: Network,
  plan: Plan,
  meter: () => CpuMeter,
): Promise<ReceivedPoint[]> {
  const pairs: Pair[] = [];
  const run = async (clients: number, seconds: number) =>
    receivedPoint(net, await grow(net, pairs, clients), seconds, plan.drainSeconds, meter());
  await run(1, plan.warmupSeconds);
  const points: ReceivedPoint[] = [];
  for (const clients of plan.clients) points.push(await run(clients, plan.seconds));
  return points;
}
