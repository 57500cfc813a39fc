/**
 * `npm run bench` for @dsm/core: accepted transfers/s and latency p50/p99 through the client API of a real
 * core process over two storage node processes (R = 2) on loopback, next to the signature-verify rate of
 * the same backend and suite measured in this run. JSON on stdout and in bench-results/core.json.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { STATE_CONTEXT, nodeBackend } from '@dsm/protocol';
import { Network, writeBenchReport } from '@dsm/testkit';

const quick = process.argv.includes('--quick');
const SENDERS = 8;
const TRANSFERS = quick ? 25 : 150;
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function verifyRate(): number {
  const keys = nodeBackend.keygen('ml-dsa-65');
  const msg = new Uint8Array(36).fill(1);
  const sig = nodeBackend.sign('ml-dsa-65', keys.secretKey, msg, STATE_CONTEXT);
  const n = 3000;
  const t = performance.now();
  for (let i = 0; i < n; i++) nodeBackend.verify('ml-dsa-65', keys.publicKey, msg, sig, STATE_CONTEXT);
  return n / ((performance.now() - t) / 1000);
}

const net = await new Network().start({ coreEnv: { DSM_LOG_LEVEL: 'error', DSM_AUTO_RECEIVE: 'false' } });
try {
  const create = async (label: string) =>
    (await net.core.call<{ identity: string }>('POST', '/v1/identities', { label })).body.identity;
  const sink = await create('sink');
  const senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => create(`sender-${i}`)));
  const tokens = await Promise.all(
    senders.map(
      async (s) =>
        (
          await net.core.call<{ token: string }>('POST', `/v1/identities/${s}/tokens`, {
            symbol: 'B',
            name: 'Bench',
            initialSupply: '1000000',
            policy: { conditions: [{ kind: 'amountLimit', op: 'token.transfer', max: '100' }] },
          })
        ).body.token,
    ),
  );
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    senders.map(async (sender, i) => {
      for (let k = 0; k < TRANSFERS; k++) {
        const t = performance.now();
        const res = await net.core.call('POST', `/v1/identities/${sender}/transfer`, {
          token: tokens[i],
          amount: '1',
          to: sink,
        });
        if (res.status !== 201) throw new Error(`transfer refused: ${JSON.stringify(res.body)}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const accepted = latencies.length / seconds;
  const verify = verifyRate();
  const report = {
    package: '@dsm/core',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    setup: {
      storageNodes: 2,
      replicationFactor: 2,
      suite: 'ml-dsa-65',
      senders: SENDERS,
      transfersPerSender: TRANSFERS,
      policy: 'amountLimit',
    },
    transfers: {
      accepted: latencies.length,
      perSecond: round(accepted, 1),
      latencyMs: { p50: round(pct(latencies, 50)), p99: round(pct(latencies, 99)) },
    },
    baseline: { mlDsa65VerifyPerSecond: round(verify, 1) },
    goals: { 'transfers/s ≥ 0.5 × verify rate': round(accepted / verify) },
  };
  writeBenchReport('core', report);
} finally {
  await net.destroy();
}
