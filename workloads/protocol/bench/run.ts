/**
 * `npm run bench` for @dsm/protocol: keygen/sign/verify per suite and backend, chain verification of a
 * 1,000-state chain, and its ratio to the bare verify rate measured in the same run. Prints JSON and writes
 * it to bench-results/protocol.json at the repository root.
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
  type CryptoBackend,
  type Operation,
  type SignatureSuite,
  type State,
} from '@dsm/protocol';
import { measure, measureOnce, round, type Rate } from './measure.js';

const CHAIN_LENGTH = 1000;
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

/** Verification of the whole chain from bytes; one warm-up pass, then the median of three. */
async function chainRate(suite: SignatureSuite, backend: CryptoBackend): Promise<Rate> {
  const { genesis, ledger, states } = buildChain(suite, CHAIN_LENGTH);
  const pass = () =>
    measureOnce(async () => {
      const result = await verifyChain({ genesis, states, world: ledger, backend });
      if (result.failure) throw result.failure.error;
      return result.verified;
    });
  await pass();
  const runs = [await pass(), await pass(), await pass()].sort((a, b) => a.perSecond - b.perSecond);
  return runs[1]!;
}

const backends = [nodeBackend, nobleBackend].filter((b) => SIGNATURE_SUITES.every((s) => b.supports(s)));
const suites: Record<string, Record<string, ReturnType<typeof suiteRates>>> = {};
for (const suite of SIGNATURE_SUITES) {
  suites[suite] = {};
  for (const backend of backends) suites[suite][backend.name] = suiteRates(suite, backend);
}

const chainSuites: SignatureSuite[] = ['ml-dsa-65', 'ml-dsa-44'];
const chain: Record<
  string,
  Record<string, { statesPerSecond: number; verifyPerSecond: number; ratio: number }>
> = {};
for (const suite of chainSuites) {
  chain[suite] = {};
  for (const backend of backends) {
    const rate = await chainRate(suite, backend);
    const verify = suites[suite]![backend.name]!.verify.perSecond;
    chain[suite][backend.name] = {
      statesPerSecond: rate.perSecond,
      verifyPerSecond: verify,
      ratio: round(rate.perSecond / verify),
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
  chainVerification: { chainLength: CHAIN_LENGTH, bySuite: chain },
  goals: {
    'chain/verify ratio ≥ 0.9 (ml-dsa-65, node)': chain['ml-dsa-65']?.node?.ratio,
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
