/**
 * `npm run bench` for @dsm/core (issue 13): transfers/s, latency p50/p99 and CPU per transfer of each
 * process through the client API of a real core process over two storage node processes (R = 2) on
 * loopback, at 1 to 64 concurrent clients, for hosted transfers (with and without their receives) and
 * client-signed states, next to the bounds the signature rates of this run allow. A fresh network per
 * scenario. JSON on stdout and in bench-results/core.json. `--quick`: a short smoke run; `--seconds N` and
 * `--clients 1,4` override the plan.
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { writeBenchReport } from '@dsm/testkit';
import { clientSigned } from './client-signed.js';
import { hostedReceived, hostedTransfers } from './hosted.js';
import { withNetwork, type OnNetwork, type Plan, type Point } from './load.js';
import { ceilings, round, sleep, type Ceilings } from './measure.js';

const SUITE = 'ml-dsa-65';
/** The goals: this share of each bound, at a p99 no higher than this. */
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 50;
const RECEIVE_POLL_MS = 200;

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean' }, seconds: { type: 'string' }, clients: { type: 'string' } },
});
const quick = args.quick === true;
const plan: Plan = {
  clients: args.clients?.split(',').map(Number) ?? (quick ? [1, 4] : [1, 4, 16, 64]),
  seconds: Number(args.seconds ?? (quick ? 1 : 6)),
  warmupSeconds: quick ? 0.3 : 1,
  drainSeconds: quick ? 10 : 60,
};

interface Scenario {
  what: string;
  bound: keyof Ceilings['bounds'];
  coreEnv: Record<string, string>;
  run: OnNetwork<Point[]>;
}

const scenarios: Record<string, Scenario> = {
  hosted: {
    what: 'hosted transfers, counted when accepted (auto-receive off)',
    bound: 'hosted',
    coreEnv: { DSM_AUTO_RECEIVE: 'false' },
    run: (net, meter) => hostedTransfers(net, plan, meter),
  },
  hostedWithReceives: {
    what: `hosted transfers, counted when a poll of the recipient shows them received (auto-receive on, receivePollMs ${RECEIVE_POLL_MS}); perSecond over window + drain`,
    bound: 'hostedWithReceives',
    coreEnv: { DSM_AUTO_RECEIVE: 'true', DSM_RECEIVE_POLL_MS: String(RECEIVE_POLL_MS) },
    run: (net, meter) => hostedReceived(net, plan, meter),
  },
  clientSigned: {
    what: `client-signed transfers (${SUITE}, signed beforehand), POST /v1/states`,
    bound: 'clientSigned',
    coreEnv: { DSM_AUTO_RECEIVE: 'false' },
    run: (net, meter) => clientSigned(net, plan, meter, SUITE),
  },
};

const ceiling = ceilings(SUITE, quick ? 0.2 : 1);
const idleSeconds = quick ? 0.5 : 2;
const results: Record<
  string,
  { what: string; idleCpuMsPerSecond: Record<string, number | null>; points: Point[] }
> = {};
for (const [name, scenario] of Object.entries(scenarios)) {
  results[name] = await withNetwork(scenario.coreEnv, async (net, meter) => {
    const points = await scenario.run(net, meter);
    // What the processes spend with no load, every identity of the last point still hosted (timers, polls).
    const idle = meter();
    await sleep(idleSeconds * 1000);
    return { what: scenario.what, idleCpuMsPerSecond: idle.perUnit(idleSeconds), points };
  });
}

const ratios = Object.fromEntries(
  Object.entries(scenarios).map(([name, scenario]) => {
    const best = results[name]!.points.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const bound = ceiling.bounds[scenario.bound];
    return [
      name,
      {
        clients: best.clients,
        perSecond: best.perSecond,
        bound,
        ratio: round(best.perSecond / bound, 3),
        p99Ms: best.p99Ms,
      },
    ];
  }),
);
const goals = Object.fromEntries(
  Object.entries(ratios).flatMap(([name, r]) => [
    [`${name}: best/s ÷ bound (goal ≥ ${GOAL_RATIO})`, r.ratio],
    [`${name}: p99 ms at that load (goal ≤ ${GOAL_P99_MS})`, r.p99Ms],
  ]),
);

writeBenchReport('core', {
  package: '@dsm/core',
  date: new Date().toISOString(),
  setup: {
    storageNodes: 2,
    replicationFactor: 2,
    suite: SUITE,
    node: process.version,
    cpus: ceiling.cores,
    cpuModel: cpus()[0]?.model,
    secondsPerPoint: plan.seconds,
    clients: plan.clients,
    policy: 'amountLimit',
    quick,
  },
  ceilings: ceiling,
  scenarios: results,
  ratios,
  goals,
});
