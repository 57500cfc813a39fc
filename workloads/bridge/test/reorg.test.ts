// Reorganisations of the EVM chain under the real bridge process (hardhat's evm_snapshot / evm_revert, the
// miner stopped so the test decides which blocks exist): a burn reorganised out before it is final releases
// nothing, a mint reorganised out is minted again, and a reorganisation deeper than the confirmation depth
// halts the bridge until an operator resumes it.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Transaction } from 'ethers';
import { eventually } from '@dsm/testkit';
import { BridgeNet, CHAIN_ID, consistently, releaseMemo } from './bridge-net.js';

const CONFIRMATIONS = 4;

describe('bridge and EVM reorganisations', () => {
  // Real processes restarted and waited for: a generous bound per case on a loaded 2-core machine.
  jest.setTimeout(60_000);
  const t = new BridgeNet();
  let memo: string;

  beforeAll(async () => {
    await t.start({ confirmations: CONFIRMATIONS });
    memo = `evm:${CHAIN_ID}:${t.userAddress}`;
    await t.bridgeIdentity();
    await t.waitDeposit(await t.deposit('100000', memo), 'minted');
  }, 120_000);
  afterAll(() => t.destroy());
  afterEach(() => t.startMiner());

  /** The bridge has looked at head `head` and scanned every block final at it. */
  const caughtUp = (head: number) =>
    eventually(
      async () => {
        const { evm } = await t.api.status();
        return evm.head === head && evm.lastProcessedBlock === head - CONFIRMATIONS + 1;
      },
      30_000,
      `the bridge to process head ${head}`,
    );

  it('releases nothing for a burn reorganised out before it had its confirmations', async () => {
    await t.stopMiner();
    const alice = await t.dsmBalance(t.alice);
    const supply = await t.wrappedSupply();
    const snapshot = await t.chain.snapshot();
    const { id, block } = await t.withdraw(500n);
    // Fewer than confirmations − 1 more blocks: the burn's block is one confirmation short of final.
    await t.chain.mine(CONFIRMATIONS - 2);
    await caughtUp(block + CONFIRMATIONS - 2);
    expect(await t.withdrawalOf(id)).toBeUndefined();
    await t.chain.revert(snapshot);
    t.user.reset();
    // The new chain grows well past where the burn was final on the old one.
    await t.chain.mine(3 * CONFIRMATIONS);
    await caughtUp(block - 1 + 3 * CONFIRMATIONS);

    expect(await t.withdrawalOf(id)).toBeUndefined();
    expect((await t.api.withdrawals()).map((w) => w.id)).not.toContain(id);
    expect(await t.inboxWith(releaseMemo(id))).toHaveLength(0);
    expect(await t.releasesOf(id)).toBe(0);
    expect(await t.dsmBalance(t.alice)).toBe(alice);
    expect(await t.wrappedSupply()).toBe(supply);
    const status = await t.api.status();
    expect(status.halted).toBeNull();
    expect(status.invariant[0]?.gap).toBe('0');
  });

  it('mints again a mint reorganised out before it was final, and it ends minted once', async () => {
    await t.stopMiner();
    const balance = await t.wrappedBalance();
    const snapshot = await t.chain.snapshot();
    const transfer = await t.deposit('77', memo);
    // Mined (the dev chain mines each transaction) but with one confirmation: the miner is stopped.
    await eventually(
      async () => (await t.depositOf(transfer))?.mintBlock !== undefined,
      30_000,
      'the mint to be mined',
    );
    const first = await t.depositOf(transfer);
    expect(first?.status).toBe('minting');
    expect(await t.mintedOnChain(transfer)).toBe(true);
    // The bridge may send the mint again the moment the chain is reverted; with automine off that
    // transaction waits for the miner, so what is read here is the reverted chain.
    await t.chain.setAutomine(false);
    await t.chain.revert(snapshot);
    expect(await t.mintedOnChain(transfer)).toBe(false);
    expect(await t.wrappedBalance()).toBe(balance);
    await t.chain.setAutomine(true);
    t.startMiner();

    const minted = await t.waitDeposit(transfer, 'minted');
    expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.mintedOnChain(transfer)).toBe(true);
    expect(await t.wrappedBalance()).toBe(balance + 77n);
    const receipt = await t.provider.getTransactionReceipt(minted.mintTx as string);
    expect(receipt?.status).toBe(1);
    expect(receipt?.blockNumber).toBe(minted.mintBlock);
  });

  it('halts on a reorganisation deeper than the confirmation depth and resumes when told', async () => {
    const alice = await t.dsmBalance(t.alice);
    const snapshot = await t.chain.snapshot();
    const forkedAt = await t.chain.blockNumber();
    const { id, block } = await t.withdraw(600n);
    await t.waitWithdrawal(id, 'released');
    // A deposit minted and final on the chain about to be replaced: the new chain will not have its mint.
    const lostMint = await t.deposit('33', memo);
    const minted = await t.waitDeposit(lostMint, 'minted');
    await eventually(
      async () =>
        ((await t.api.status()).evm.lastProcessedBlock ?? 0) > Math.max(block, minted.mintBlock ?? 0) + 1,
      30_000,
      'the bridge to process blocks past the burn',
    );
    const sent = await t.provider.getTransaction(id.split(':')[0] as string);
    const burn = Transaction.from(sent as NonNullable<typeof sent>).serialized;
    await t.stopMiner();
    await t.chain.revert(snapshot);
    t.user.reset();

    await eventually(async () => (await t.api.status()).halted !== null, 30_000, 'the bridge to halt');
    const { halted } = await t.api.status();
    expect(halted?.block).toBeGreaterThan(forkedAt);
    expect(halted?.reason).toContain(`block ${halted?.block} `);
    expect(await t.metric('dsm_bridge_halted')).toBe(1);

    // The new chain's blocks are not the old ones (later timestamps: hardhat's are otherwise the same), it
    // grows and carries the same burn again, as reorganisations keep most transactions; a deposit arrives.
    // While halted the bridge mints nothing and releases nothing.
    await t.chain.rpc('evm_increaseTime', [3600]);
    t.startMiner();
    const again = await (await t.provider.broadcastTransaction(burn)).wait();
    const log = again?.logs.find((l) => l.address.toLowerCase() === t.contract.toLowerCase());
    // Same transaction, alone in its block again: the same burn id, which the bridge has released.
    expect(`${again?.hash}:${log?.index}`).toBe(id);
    const transfer = await t.deposit('88', memo);
    await consistently(
      async () =>
        (await t.depositOf(transfer)) === undefined &&
        !(await t.mintedOnChain(transfer)) &&
        (await t.inboxWith(releaseMemo(id))).length === 1 &&
        (await t.api.status()).halted !== null,
      3000,
      'halted: no mint, no second release',
    );
    // A restart does not forget the halt.
    await t.restartBridge();
    expect((await t.api.status()).halted).toEqual(halted);

    const resumed = await t.api.resume();
    expect(resumed.halted).toBeNull();
    await t.waitDeposit(transfer, 'minted');
    expect(await t.mintedEvents(transfer)).toBe(1);
    // The burn on the new chain is the one already released: scanned again, not released again.
    await eventually(
      async () => ((await t.api.status()).evm.lastProcessedBlock ?? 0) >= (again?.blockNumber ?? Infinity),
      30_000,
      'the bridge to scan the new chain past the burn',
    );
    expect((await t.api.status()).halted).toBeNull();
    expect(await t.metric('dsm_bridge_halted')).toBe(0);
    expect(await t.releasesOf(id)).toBe(1);
    expect(await t.inboxWith(releaseMemo(id))).toHaveLength(1);
    // The mint lost with the old chain is made again on the new one, once.
    await t.waitDeposit(lostMint, 'minted');
    expect(await t.mintedEvents(lostMint)).toBe(1);
    await eventually(
      async () => (await t.dsmBalance(t.alice)) === alice + 600n - 88n - 33n,
      15_000,
      'alice to hold the release, less the deposit',
    );
    await eventually(
      async () => {
        const status = await t.api.status();
        return status.pending.deposits === 0 && status.invariant[0]?.gap === '0';
      },
      30_000,
      'the invariant sound on the new chain',
    );
  });
});
