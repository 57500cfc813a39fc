/**
 * `npm run bench` for @dsm/bridge, on real processes (two storage nodes with R = 2, a core, the bridge) and a
 * hardhat dev chain that mines each transaction at once (and an empty block every 100 ms), with
 * confirmations = 1 so nothing waits for depth:
 * - the bridge's own overhead per deposit (DSM transfer accepted → mint final) and per withdrawal (burn
 *   mined → release accepted on DSM), p50/p99, next to the baseline of the same run: one hosted DSM transfer
 *   through the core and one EVM transaction on the dev chain, the two steps each direction needs at least;
 * - deposits minted per second under a burst of 1,000, next to the rate the core accepted the 1,000 transfers.
 * JSON on stdout and in bench-results/bridge.json.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Wallet } from 'ethers';
import { DEV_KEYS, eventually, writeBenchReport } from '@dsm/testkit';
import { BridgeNet, CHAIN_ID } from '../test/bridge-net.js';

const quick = process.argv.includes('--quick');
const SINGLES = quick ? 5 : 30;
const BURST = quick ? 100 : 1000;
const SENDERS = 8;
const POLL_MS = 50;

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
};
const summary = (values: number[]) => ({ p50Ms: pct(values, 50), p99Ms: pct(values, 99), n: values.length });

type Json = Record<string, unknown>;

const t = await new BridgeNet().start({
  confirmations: 1,
  extra: { pollMs: POLL_MS, logLevel: 'error' },
});
try {
  const recipient = new Wallet(DEV_KEYS[3]).address;
  const memo = `evm:${CHAIN_ID}:${recipient}`;

  // Baselines: a hosted transfer through the core, and an EVM transaction mined on the dev chain.
  const transferMs: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const started = performance.now();
    const sent = await t.net.core.call('POST', `/v1/identities/${t.alice}/transfer`, {
      token: t.token,
      amount: '1',
      to: t.alice,
    });
    if (sent.status !== 201) throw new Error(`baseline transfer: ${JSON.stringify(sent.body)}`);
    transferMs.push(performance.now() - started);
  }
  const evmTxMs: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const started = performance.now();
    await (await t.user.sendTransaction({ to: recipient, value: 1n })).wait();
    evmTxMs.push(performance.now() - started);
  }

  // One deposit at a time: from the core accepting the transfer to the mint being final.
  const depositMs: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const transfer = await t.deposit('100', memo);
    const accepted = performance.now();
    await eventually(async () => (await t.depositOf(transfer))?.status === 'minted', 30_000, 'minted');
    depositMs.push(performance.now() - accepted);
  }
  // The user holds no wrapped tokens (they went to `recipient`): mint some to it for the withdrawals.
  const own = await t.deposit(String(SINGLES * 10), `evm:${CHAIN_ID}:${t.userAddress}`);
  await t.waitDeposit(own, 'minted');

  // One withdrawal at a time: from the burn being mined to the release being accepted on DSM.
  const withdrawalMs: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const { id } = await t.withdraw(10n);
    const mined = performance.now();
    await eventually(async () => (await t.withdrawalOf(id))?.status === 'released', 30_000, 'released');
    withdrawalMs.push(performance.now() - mined);
  }

  // A burst: BURST deposits from SENDERS hosted identities at once.
  const senders: string[] = [];
  for (let i = 0; i < SENDERS; i++) {
    const created = await t.net.core.call<Json>('POST', '/v1/identities', {
      label: `sender-${i}`,
      suite: 'ml-dsa-44',
    });
    const id = created.body.identity as string;
    senders.push(id);
    const funded = await t.net.core.call('POST', `/v1/identities/${t.alice}/transfer`, {
      token: t.token,
      amount: String(BURST * 10),
      to: id,
    });
    if (funded.status !== 201) throw new Error('funding a sender failed');
  }
  await eventually(
    async () => {
      for (const s of senders) if ((await t.dsmBalance(s)) < BigInt(BURST * 10)) return false;
      return true;
    },
    60_000,
    'senders funded',
  );
  const bridgeIdentity = await t.bridgeIdentity();
  const transfers: string[] = [];
  const burstStart = performance.now();
  await Promise.all(
    senders.map(async (sender, i) => {
      for (let k = i; k < BURST; k += SENDERS) {
        const sent = await t.net.core.call<Json>('POST', `/v1/identities/${sender}/transfer`, {
          token: t.token,
          amount: '1',
          to: bridgeIdentity,
          memo,
        });
        if (sent.status !== 201) throw new Error(`burst transfer: ${JSON.stringify(sent.body)}`);
        transfers.push(sent.body.stateId as string);
      }
    }),
  );
  const submitted = performance.now();
  const wanted = new Set(transfers);
  const mintedCount = async () =>
    (await t.api.deposits(10_000)).filter((d) => wanted.has(d.transfer) && d.status === 'minted').length;
  await eventually(async () => (await mintedCount()) === BURST, 600_000, 'the burst minted');
  const done = performance.now();
  const minted = await mintedCount();
  const status = await t.api.status();

  writeBenchReport('bridge', {
    package: '@dsm/bridge',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    setup: {
      storageNodes: 2,
      replicationFactor: 2,
      evm: 'hardhat node (automine)',
      confirmations: 1,
      bridgePollMs: POLL_MS,
      attestationThreshold: 1,
    },
    baseline: { hostedTransfer: summary(transferMs), evmTransaction: summary(evmTxMs) },
    deposit: {
      ...summary(depositMs),
      overheadOverBaselineP50Ms: round(pct(depositMs, 50) - pct(evmTxMs, 50)),
    },
    withdrawal: {
      ...summary(withdrawalMs),
      overheadOverBaselineP50Ms: round(pct(withdrawalMs, 50) - pct(transferMs, 50)),
    },
    burst: {
      deposits: BURST,
      senders: SENDERS,
      minted,
      coreAcceptedPerSecond: round(BURST / ((submitted - burstStart) / 1000)),
      mintedPerSecond: round(BURST / ((done - burstStart) / 1000)),
      secondsToAllMinted: round((done - burstStart) / 1000, 2),
    },
    invariantGap: status.invariant.map((i) => i.gap),
  });
} finally {
  await t.destroy();
}
