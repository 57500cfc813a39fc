/**
 * `npm run bench` for @dsm/protocol: keygen/sign/verify per suite and backend, chain verification of a
 * 1,000-state chain, and its ratio to the bare verify rates measured in the same run: sequential (one core)
 * and parallel (bare verifications all in flight at once on the thread pool, every core). Prints JSON and
 * writes it to bench-results/protocol.json at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  MemoryLedger,
  SIGNATURE_SUITES,
  STATE_CONTEXT,
  encode,
  makeGenesis,
  makeGenesisState,
  makeNextState,
  makePolicy,
  makeToken,
  nobleBackend,
  nodeBackend,
  signState,
  verifyChain,
  verifySignature,
  type CryptoBackend,
  type Operation,
  type SignatureSuite,
  type State,
} from '@dsm/protocol';
import { measure, measureOnce, round, type Rate } from './measure.js';

const CHAIN_LENGTH = 1000;
/** Bare verifications issued at once for the parallel rate (as workloads/storage/bench does). */
const PARALLEL_VERIFICATIONS = 4000;
const quick = process.argv.includes('--quick');
const minSeconds = quick ? 0.2 : 1;
const message = new Uint8Array(36).fill(7);

function suiteRates(suite: SignatureSuite, backend: CryptoBackend) {
  // SLH-DSA-128s signs in seconds with pure JS: a couple of iterations is all a run can afford.
  const slow = backend.name === 'noble' && suite.startsWith('slh');
  const opts = { minSeconds: slow ? 0.1 : minSeconds, minIterations: slow ? 2 : 5 };
  const keys = backend.keygen(suite);
  const sig = backend.sign(suite, keys.secretKey, message, STATE_CONTEXT);
  return {
    keygen: measure(() => backend.keygen(suite), opts),
    sign: measure(() => backend.sign(suite, keys.secretKey, message, STATE_CONTEXT), opts),
    verify: measure(() => backend.verify(suite, keys.publicKey, message, sig, STATE_CONTEXT), opts),
  };
}

/** A chain of `length` states cycling through mint, transfer, lock, unlock and burn, encoded as bytes. */
function buildChain(suite: SignatureSuite, length: number) {
  const keys = nodeBackend.keygen(suite);
  const ledger = new MemoryLedger(nodeBackend);
  const genesis = makeGenesis({
    suite,
    publicKey: keys.publicKey,
    kemPublicKey: nodeBackend.kemKeygen().publicKey,
    nonce: new Uint8Array(32).fill(1),
  });
  const identity = ledger.addGenesis(genesis);
  const other = ledger.addGenesis({ ...genesis, nonce: new Uint8Array(32).fill(2) });
  const policy = ledger.addPolicy(
    makePolicy(identity, [
      { kind: 'amountLimit', op: 'token.transfer', max: '100' },
      { kind: 'denyList', identities: [] },
    ]),
  );
  const token = makeToken({
    issuer: identity,
    symbol: 'B',
    name: 'Bench',
    decimals: 0,
    initialSupply: 1_000_000n,
    policy,
    nonce: new Uint8Array(32),
  });
  const tokenId = ledger.addToken(token);
  const cycle: Operation[] = [
    { kind: 'token.mint', token: tokenId, amount: '10' },
    { kind: 'token.transfer', token: tokenId, amount: '3', to: other },
    { kind: 'token.lock', token: tokenId, amount: '2', purpose: 'bench' },
    { kind: 'token.unlock', token: tokenId, amount: '1', purpose: 'bench' },
    { kind: 'token.burn', token: tokenId, amount: '1' },
  ];
  let state: State = makeGenesisState(identity, 1_700_000_000_000);
  const states = [encode(signState(nodeBackend, suite, keys.secretKey, state))];
  state = makeNextState(state, { kind: 'token.create', token: tokenId }, state.t + 1, token);
  states.push(encode(signState(nodeBackend, suite, keys.secretKey, state)));
  while (states.length < length) {
    state = makeNextState(state, cycle[states.length % cycle.length]!, state.t + 1);
    states.push(encode(signState(nodeBackend, suite, keys.secretKey, state)));
  }
  return { genesis, ledger, states };
}

/** A timed pass with its CPU time per item: on the main (JavaScript) thread and in the whole process. */
interface Pass {
  rate: Rate;
  mainThreadMicros: number;
  processMicros: number;
}

async function timed(fn: () => Promise<number>): Promise<Pass> {
  const cpu = process.cpuUsage();
  const main = process.threadCpuUsage();
  const rate = await measureOnce(fn);
  const c = process.cpuUsage(cpu);
  const m = process.threadCpuUsage(main);
  return {
    rate,
    mainThreadMicros: round((m.user + m.system) / rate.iterations, 1),
    processMicros: round((c.user + c.system) / rate.iterations, 1),
  };
}

/**
 * Bare verifications all in flight at once: on the libuv thread pool (every core) with node:crypto, on the
 * main thread with a backend that has no asynchronous verify.
 */
function parallelVerifyPass(suite: SignatureSuite, backend: CryptoBackend, count: number) {
  const keys = backend.keygen(suite);
  const sig = backend.sign(suite, keys.secretKey, message, STATE_CONTEXT);
  return timed(async () => {
    const checks = Array.from({ length: count }, () =>
      verifySignature(backend, suite, keys.publicKey, message, sig, STATE_CONTEXT),
    );
    if (!(await Promise.all(checks)).every(Boolean)) throw new Error('a bench signature did not verify');
    return count;
  });
}

const median = (passes: Pass[]) =>
  [...passes].sort((a, b) => a.rate.perSecond - b.rate.perSecond)[passes.length >> 1]!;

/**
 * Verification of the whole chain from bytes and the parallel verify rate, alternated so that both see the
 * same load on the machine: one warm-up pass of each, then the median of three of each.
 */
async function chainRates(suite: SignatureSuite, backend: CryptoBackend) {
  const { genesis, ledger, states } = buildChain(suite, CHAIN_LENGTH);
  // Pure JS verifies on the main thread: fewer bare verifications keep the run short.
  const count = backend.verifyAsync ? PARALLEL_VERIFICATIONS : 500;
  const pass = () =>
    timed(async () => {
      const result = await verifyChain({ genesis, states, world: ledger, backend });
      if (result.failure) throw result.failure.error;
      return result.verified;
    });
  await parallelVerifyPass(suite, backend, count);
  await pass();
  const chain: Pass[] = [];
  const parallel: Pass[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < 3; i++) {
    parallel.push(await parallelVerifyPass(suite, backend, count));
    chain.push(await pass());
    ratios.push(chain[i]!.rate.perSecond / parallel[i]!.rate.perSecond);
  }
  // The ratio of each pair, then the median: a pair sees one load, the medians of each side may not.
  return { chain: median(chain), parallel: median(parallel), ratio: ratios.sort((a, b) => a - b)[1]! };
}

const backends = [nodeBackend, nobleBackend].filter((b) => SIGNATURE_SUITES.every((s) => b.supports(s)));
const suites: Record<string, Record<string, ReturnType<typeof suiteRates>>> = {};
for (const suite of SIGNATURE_SUITES) {
  suites[suite] = {};
  for (const backend of backends) suites[suite][backend.name] = suiteRates(suite, backend);
}

interface ChainFigures {
  statesPerSecond: number;
  /** One core: bare verify calls one after the other. */
  sequentialVerifyPerSecond: number;
  /** Every core: PARALLEL_VERIFICATIONS bare verifications in flight at once. */
  parallelVerifyPerSecond: number;
  /** The goal's ratio: chain states/s over parallel verifications/s, median over the alternated pairs. */
  ratio: number;
  ratioToSequential: number;
  /**
   * CPU time per state and per parallel verification, on the main thread and in the whole process (all
   * threads): what explains the ratio whatever else runs on the machine.
   */
  cpuMicros: {
    chainMainThread: number;
    chainProcess: number;
    parallelVerifyMainThread: number;
    parallelVerifyProcess: number;
  };
}

const chainSuites: SignatureSuite[] = ['ml-dsa-65', 'ml-dsa-44'];
const chain: Record<string, Record<string, ChainFigures>> = {};
for (const suite of chainSuites) {
  chain[suite] = {};
  for (const backend of backends) {
    const rates = await chainRates(suite, backend);
    const sequential = suites[suite]![backend.name]!.verify.perSecond;
    chain[suite][backend.name] = {
      statesPerSecond: rates.chain.rate.perSecond,
      sequentialVerifyPerSecond: sequential,
      parallelVerifyPerSecond: rates.parallel.rate.perSecond,
      ratio: round(rates.ratio),
      ratioToSequential: round(rates.chain.rate.perSecond / sequential),
      cpuMicros: {
        chainMainThread: rates.chain.mainThreadMicros,
        chainProcess: rates.chain.processMicros,
        parallelVerifyMainThread: rates.parallel.mainThreadMicros,
        parallelVerifyProcess: rates.parallel.processMicros,
      },
    };
  }
}

const node65 = suites['ml-dsa-65']!.node?.verify.perSecond ?? 0;
const noble65 = suites['ml-dsa-65']!.noble?.verify.perSecond ?? 1;
const report = {
  package: '@dsm/protocol',
  date: new Date().toISOString(),
  node: process.version,
  openssl: process.versions.openssl,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  suites,
  chainVerification: {
    chainLength: CHAIN_LENGTH,
    parallelVerifications: PARALLEL_VERIFICATIONS,
    threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    bySuite: chain,
  },
  goals: {
    'chain ≥ 0.8 × parallel verify (ml-dsa-65, node)': chain['ml-dsa-65']?.node?.ratio,
    'node ≥ 8× noble, ML-DSA-65 verify': round(node65 / noble65, 2),
  },
};

const out = join(
  process.env.DSM_BENCH_DIR ?? join(import.meta.dirname, '../../../../bench-results'),
  'protocol.json',
);
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report, null, 2));
