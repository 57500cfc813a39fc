// kill -9 of the real bridge process at each step of a deposit and a withdrawal, then a restart on the same
// data: every step finishes exactly once. Checked on the chain (Minted events, the contract's replay guard,
// wrapped balances and supply) and on DSM through the core (the bridge's own chain, inboxes, balances), not
// through the bridge's API alone.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { snapshotRoutes } from '@dsm/api';
import { eventually, sleep, type FaultProxy, type ProxiedRequest } from '@dsm/testkit';
import { BridgeNet, CHAIN_ID, releaseMemo, submittedOp } from './bridge-net.js';

const rpcMethod = (req: ProxiedRequest) => (req.json as { method?: string } | undefined)?.method;

describe('bridge crashes', () => {
  // Real processes restarted and waited for: a generous bound per case on a loaded 2-core machine.
  jest.setTimeout(60_000);
  const t = new BridgeNet();
  let memo: string;
  let bridgeId: string;

  beforeAll(async () => {
    await t.start();
    memo = `evm:${CHAIN_ID}:${t.userAddress}`;
    bridgeId = await t.bridgeIdentity();
    // Wrapped tokens for the user to burn, and the wrapped token deployed before the crashes start.
    await t.waitDeposit(await t.deposit('100000', memo), 'minted');
  }, 120_000);
  afterAll(() => t.destroy());
  // A failed case leaves no fault behind for the next one.
  afterEach(() => {
    for (const proxy of [t.evmProxy, t.coreProxy])
      Object.assign(proxy, { down: false, dropAnswer: undefined });
  });

  /**
   * Restarts the killed bridge while `proxy` is still down: the new process is up and waiting for the side
   * behind it before the proxy comes back.
   */
  async function restartWhileDown(proxy: FaultProxy): Promise<void> {
    t.bridge.output = ''; // only the new process's lines count
    const starting = t.bridge.start();
    starting.catch(() => undefined); // awaited below; a failed start fails the test there
    await eventually(
      async () => t.bridge.output.includes('waiting for the core and the EVM node'),
      30_000,
      'the restarted bridge to wait for the EVM node',
    );
    proxy.down = false;
    await starting;
  }

  it('mints a deposit received before a kill -9 that came before its mint', async () => {
    const balance = await t.wrappedBalance();
    t.evmProxy.down = true;
    const transfer = await t.deposit('101', memo);
    await t.waitDeposit(transfer, 'received');
    await t.bridge.kill();
    await restartWhileDown(t.evmProxy);
    await t.waitDeposit(transfer, 'minted');
    expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.mintedOnChain(transfer)).toBe(true);
    expect(await t.wrappedBalance()).toBe(balance + 101n);
    expect(await t.receivesOf(transfer)).toBe(1);
  });

  it('does not mint twice when killed after the mint reached the node but before the bridge heard', async () => {
    const balance = await t.wrappedBalance();
    let sent = false;
    t.evmProxy.dropAnswer = (req) => {
      if (rpcMethod(req) !== 'eth_sendRawTransaction') return false;
      // The node has the transaction; the bridge hears nothing and then cannot reach the node at all.
      t.evmProxy.down = true;
      sent = true;
      return true;
    };
    const transfer = await t.deposit('202', memo);
    await eventually(async () => sent, 30_000, 'the mint to be sent');
    t.evmProxy.dropAnswer = undefined;
    expect(await t.mintedOnChain(transfer)).toBe(true);
    const minting = await t.depositOf(transfer);
    expect(minting?.status).toBe('minting');
    await t.bridge.kill();
    await restartWhileDown(t.evmProxy);
    const minted = await t.waitDeposit(transfer, 'minted');
    expect(minted.mintTx).toBe(minting?.mintTx);
    expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.wrappedBalance()).toBe(balance + 202n);
  });

  it('releases once when killed after the core accepted the release but before the bridge heard', async () => {
    const before = await t.dsmBalance(t.alice);
    const bridgeBefore = await t.dsmBalance(bridgeId);
    let dropped = false;
    t.coreProxy.dropAnswer = (req) => {
      const op = submittedOp(req);
      if (op?.kind !== 'token.transfer' || !op.memo?.startsWith(`evm:${CHAIN_ID}:0x`)) return false;
      t.coreProxy.down = true;
      dropped = true;
      return true;
    };
    const { id: burn } = await t.withdraw(303n);
    await eventually(async () => dropped, 30_000, 'the release to be submitted');
    t.coreProxy.dropAnswer = undefined;
    await t.bridge.kill();
    await t.bridge.start();
    // On restart the journal still has the release outstanding: the core accepted it, the bridge never heard.
    expect((await t.withdrawalOf(burn))?.status).toBe('releasing');
    t.coreProxy.down = false;
    await t.waitWithdrawal(burn, 'released');
    const entries = await t.inboxWith(releaseMemo(burn));
    expect(entries.map((e) => e.amount)).toEqual(['303']);
    expect(await t.releasesOf(burn)).toBe(1);
    await eventually(
      async () => (await t.dsmBalance(t.alice)) === before + 303n,
      15_000,
      'alice to receive the release',
    );
    expect(await t.dsmBalance(bridgeId)).toBe(bridgeBefore - 303n);
  });

  it('receives once when killed after the core accepted the receive but before the bridge heard', async () => {
    const balance = await t.wrappedBalance();
    const bridgeBefore = await t.dsmBalance(bridgeId);
    let dropped = false;
    t.coreProxy.dropAnswer = (req) => {
      const op = submittedOp(req);
      if (op?.kind !== 'token.receive' || op.amount !== '404') return false;
      t.coreProxy.down = true;
      dropped = true;
      return true;
    };
    const transfer = await t.deposit('404', memo);
    await eventually(async () => dropped, 30_000, 'the receive to be submitted');
    t.coreProxy.dropAnswer = undefined;
    await t.bridge.kill();
    await t.bridge.start();
    expect((await t.depositOf(transfer))?.status).toBe('receiving');
    t.coreProxy.down = false;
    await t.waitDeposit(transfer, 'minted');
    expect(await t.receivesOf(transfer)).toBe(1);
    expect(await t.dsmBalance(bridgeId)).toBe(bridgeBefore + 404n);
    expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.wrappedBalance()).toBe(balance + 404n);
  });

  it('finishes every deposit and withdrawal in flight through repeated kill -9s, each exactly once', async () => {
    const balance = await t.wrappedBalance();
    const alice = await t.dsmBalance(t.alice);
    const held = await t.dsmBalance(bridgeId);
    const amounts = { deposits: [] as bigint[], withdrawals: [] as bigint[] };
    const deposits: string[] = [];
    const withdrawals: string[] = [];
    // Deposits and burns arrive in a burst while the bridge is killed every 300–800 ms (and restarted).
    const depositing = (async () => {
      for (let i = 0; i < 12; i++) {
        const amount = 10n + BigInt(i);
        deposits.push(await t.deposit(amount.toString(), memo));
        amounts.deposits.push(amount);
      }
    })();
    const burning = (async () => {
      for (let i = 0; i < 6; i++) {
        const amount = 1000n + BigInt(i);
        withdrawals.push((await t.withdraw(amount)).id);
        amounts.withdrawals.push(amount);
      }
    })();
    let kills = 0;
    const killing = (async () => {
      while (kills < 5) {
        await sleep(300 + Math.floor(Math.random() * 500));
        await t.restartBridge();
        kills += 1;
      }
    })();
    await Promise.all([depositing, burning, killing]);
    expect(kills).toBe(5);

    for (const transfer of deposits) await t.waitDeposit(transfer, 'minted', 60_000);
    for (const id of withdrawals) await t.waitWithdrawal(id, 'released', 60_000);
    const ops = await t.bridgeOps();
    for (const transfer of deposits) {
      expect(await t.mintedEvents(transfer)).toBe(1);
      expect(
        ops.filter((op) => op.kind === 'token.receive' && op.transfer.toString() === transfer),
      ).toHaveLength(1);
    }
    for (const id of withdrawals) {
      expect(ops.filter((op) => op.kind === 'token.transfer' && op.memo === releaseMemo(id))).toHaveLength(1);
      expect(await t.inboxWith(releaseMemo(id))).toHaveLength(1);
    }
    const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
    const net = sum(amounts.deposits) - sum(amounts.withdrawals);
    expect(await t.wrappedBalance()).toBe(balance + net);
    expect(await t.dsmBalance(bridgeId)).toBe(held + net);
    await eventually(
      async () => (await t.dsmBalance(t.alice)) === alice - net,
      15_000,
      'alice to receive every release',
    );

    await eventually(
      async () => {
        const status = await t.api.status();
        return (
          status.pending.deposits === 0 &&
          status.pending.withdrawals === 0 &&
          status.invariant[0]?.gap === '0' &&
          status.invariant[0]?.inFlight === '0'
        );
      },
      30_000,
      'nothing pending and the invariant sound',
    );
    expect(await t.wrappedSupply()).toBe(await t.dsmBalance(bridgeId));
  }, 120_000);

  it('restored from its newest snapshot into an empty volume it carries on; from an older one it refuses to start', async () => {
    const snapshot = async (name: string) => {
      const res = await fetch(`${t.bridge.url}${snapshotRoutes.snapshot.path}`, {
        headers: { authorization: `Bearer ${t.bridge.adminToken}` },
      });
      expect(res.status).toBe(200);
      const file = join(t.bridge.dir, '..', name);
      writeFileSync(file, new Uint8Array(await res.arrayBuffer()));
      return file;
    };
    const restartFrom = async (file: string) => {
      await t.bridge.kill();
      rmSync(join(t.bridge.dir, 'data'), { recursive: true, force: true });
      t.bridge.settings.extra = { ...t.bridge.settings.extra, restoreFrom: file };
      t.bridge.output = '';
      return t.bridge.start();
    };
    expect((await fetch(`${t.bridge.url}${snapshotRoutes.snapshot.path}`)).status).toBe(401);
    const older = await snapshot('bridge-older.car');
    const balance = await t.wrappedBalance();
    const first = await t.deposit('303', memo);
    await t.waitDeposit(first, 'minted');
    const newest = await snapshot('bridge-newest.car');

    // Older than the bridge's chain: the start stops, naming why, and nothing is signed.
    await expect(restartFrom(older)).rejects.toThrow(/older snapshot/);
    const second = await restartFrom(newest);
    expect(second).toBeUndefined();
    expect((await t.depositOf(first))?.status).toBe('minted');
    const next = await t.deposit('304', memo);
    await t.waitDeposit(next, 'minted');
    expect(await t.mintedEvents(first)).toBe(1);
    expect(await t.mintedEvents(next)).toBe(1);
    expect(await t.receivesOf(next)).toBe(1);
    expect(await t.wrappedBalance()).toBe(balance + 303n + 304n);
  }, 120_000);
});
