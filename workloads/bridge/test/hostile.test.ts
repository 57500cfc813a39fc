// The real bridge process against a lying, absent or slow EVM node and an absent core (fault proxies in
// front of both), and against settings that do not match the chain: lies are refused and counted, outages
// lose nothing, and the bridge refuses to start on the wrong chain or without its contract.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Transaction, toQuantity } from 'ethers';
import { BridgeProcess, eventually, type FaultProxy, type ProxiedRequest } from '@dsm/testkit';
import { BridgeNet, CHAIN_ID, releaseMemo } from './bridge-net.js';

type Rpc = { method?: string; params?: unknown[] };
type RpcAnswer = { result?: Record<string, unknown> | null };
type RpcLog = { address: string; data: string };
type Lie = NonNullable<FaultProxy['rewrite']>;

const rpc = (req: ProxiedRequest) => (req.json ?? {}) as Rpc;

/** The answer with its result changed by `change` (a copy: the proxy parsed it for this one request). */
const changed = (answer: unknown, change: (result: Record<string, unknown>) => unknown): unknown => {
  const { result } = answer as RpcAnswer;
  return { ...(answer as object), result: result ? change(result) : result };
};

const bumpWord = (hex: string) =>
  `0x${(BigInt(`0x${hex.slice(2, 66)}`) + 1n).toString(16).padStart(64, '0')}${hex.slice(66)}`;

describe('bridge against hostile and failing neighbours', () => {
  // Real processes restarted and waited for: a generous bound per case on a loaded 2-core machine.
  jest.setTimeout(60_000);
  const t = new BridgeNet();
  let memo: string;

  beforeAll(async () => {
    await t.start();
    memo = `evm:${CHAIN_ID}:${t.userAddress}`;
    await t.bridgeIdentity();
    await t.waitDeposit(await t.deposit('100000', memo), 'minted');
  }, 120_000);
  afterAll(() => t.destroy());
  // A failed case leaves no fault behind for the next one.
  afterEach(() => {
    Object.assign(t.evmProxy, { down: false, delayMs: 0, rewrite: undefined, dropRequest: undefined });
    t.coreProxy.down = false;
    t.startMiner();
  });

  const readyz = async () => (await fetch(`${t.bridge.url}/readyz`)).status;
  const proofFailures = async () => (await t.metric('dsm_bridge_proof_failures_total')) ?? 0;

  /** A burn the bridge has not looked at yet: the miner waits until the lie is in place. */
  async function burnUnseen(amount: bigint): Promise<{ id: string; txHash: string; block: number }> {
    await t.stopMiner();
    const burn = await t.withdraw(amount);
    return { ...burn, txHash: burn.id.split(':')[0] as string };
  }

  /** The burn released once, with its true amount, to alice (checked on DSM through the core). */
  async function releasedOnce(id: string, amount: bigint, alice: bigint): Promise<void> {
    const released = await t.waitWithdrawal(id, 'released');
    expect(released.amount).toBe(amount.toString());
    expect((await t.inboxWith(releaseMemo(id))).map((e) => e.amount)).toEqual([amount.toString()]);
    expect(await t.releasesOf(id)).toBe(1);
    await eventually(
      async () => (await t.dsmBalance(t.alice)) === alice + amount,
      15_000,
      'alice to receive the release',
    );
  }

  const lies: [string, RegExp, (burn: { txHash: string; block: number }) => Lie][] = [
    [
      'a receipt whose BurnToDsm amount was changed',
      /receipts build a trie with root 0x[0-9a-f]{64}, not the header's receiptsRoot/,
      ({ txHash }) =>
        (req, answer) =>
          rpc(req).method === 'eth_getTransactionReceipt' && rpc(req).params?.[0] === txHash
            ? changed(answer, (receipt) => ({
                ...receipt,
                logs: (receipt.logs as RpcLog[]).map((log) =>
                  log.address.toLowerCase() === t.contract.toLowerCase()
                    ? { ...log, data: bumpWord(log.data) }
                    : log,
                ),
              }))
            : answer,
    ],
    [
      'a dropped receipt',
      /gave no receipt for transaction 0 of block/,
      ({ txHash }) =>
        (req, answer) =>
          rpc(req).method === 'eth_getTransactionReceipt' && rpc(req).params?.[0] === txHash
            ? { ...(answer as object), result: null }
            : answer,
    ],
    [
      'a header whose gasUsed was changed',
      /header fields hash to 0x[0-9a-f]{64}, not to its hash/,
      ({ block }) =>
        (req, answer) =>
          rpc(req).method === 'eth_getBlockByNumber' && rpc(req).params?.[0] === toQuantity(block)
            ? changed(answer, (header) => ({
                ...header,
                gasUsed: toQuantity(BigInt(header.gasUsed as string) + 1n),
              }))
            : answer,
    ],
    [
      'a header whose receiptsRoot was changed',
      /header fields hash to 0x[0-9a-f]{64}, not to its hash/,
      ({ block }) =>
        (req, answer) =>
          rpc(req).method === 'eth_getBlockByNumber' && rpc(req).params?.[0] === toQuantity(block)
            ? changed(answer, (header) => ({
                ...header,
                receiptsRoot: bumpWord(header.receiptsRoot as string),
              }))
            : answer,
    ],
  ];

  it.each(lies)('refuses %s, then releases the true amount once', async (_what, refusal, lie) => {
    const alice = await t.dsmBalance(t.alice);
    const failures = await proofFailures();
    const burn = await burnUnseen(121n);
    t.evmProxy.rewrite = lie(burn);
    t.startMiner();
    await eventually(async () => (await proofFailures()) > failures, 30_000, 'a proof failure');
    // The status names the refusal of this block (not a lie of an earlier case).
    const named = new RegExp(`block ${burn.block}\\b`, 'i');
    await eventually(
      async () => {
        const lastError = (await t.api.status()).evm.lastError ?? '';
        return refusal.test(lastError) && named.test(lastError);
      },
      30_000,
      'the refusal in the status',
    );
    expect((await t.api.status()).evm.lastProcessedBlock).toBeLessThan(burn.block);
    expect(await t.withdrawalOf(burn.id)).toBeUndefined();
    expect(await t.inboxWith(releaseMemo(burn.id))).toHaveLength(0);

    t.evmProxy.rewrite = undefined;
    await releasedOnce(burn.id, 121n, alice);
  });

  it.each([
    ['down', () => (t.evmProxy.down = true), () => (t.evmProxy.down = false)],
    ['slower than the bridge waits', () => (t.evmProxy.delayMs = 2500), () => (t.evmProxy.delayMs = 0)],
  ])('loses nothing while the EVM node is %s, and catches up after', async (_what, fail, heal) => {
    const alice = await t.dsmBalance(t.alice);
    const balance = await t.wrappedBalance();
    fail();
    await eventually(async () => !(await t.api.status()).evm.reachable, 30_000, 'the EVM side to be down');
    const { evm } = await t.api.status();
    expect(evm.lastError).toEqual(expect.any(String));
    expect(await readyz()).toBe(503);
    // Meanwhile: a deposit (received on DSM, not minted) and a burn straight on the chain.
    const transfer = await t.deposit('131', memo);
    await t.waitDeposit(transfer, 'received');
    const { id } = await t.withdraw(141n);
    expect(await t.mintedOnChain(transfer)).toBe(false);

    heal();
    await t.waitDeposit(transfer, 'minted');
    expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.wrappedBalance()).toBe(balance + 131n - 141n);
    await releasedOnce(id, 141n, alice - 131n);
    await eventually(async () => (await t.api.status()).evm.reachable, 30_000, 'the EVM side to be up');
    expect(await readyz()).toBe(200);
  });

  it('sends a mint lost on its way again, mined once, next to the mint signed after it', async () => {
    const balance = await t.wrappedBalance();
    // Two deposits received while the EVM node is away, so one pass signs both (consecutive nonces).
    t.evmProxy.down = true;
    const transfers = [await t.deposit('161', memo), await t.deposit('162', memo)];
    for (const transfer of transfers) await t.waitDeposit(transfer, 'received');
    // The first broadcast never reaches the node; the second waits there behind the nonce gap.
    let lost: string | undefined;
    t.evmProxy.dropRequest = (req) => {
      if (rpc(req).method !== 'eth_sendRawTransaction' || lost !== undefined) return false;
      lost = Transaction.from(rpc(req).params?.[0] as string).hash as string;
      return true;
    };
    t.evmProxy.down = false;
    const minted = [];
    for (const transfer of transfers) minted.push(await t.waitDeposit(transfer, 'minted'));
    t.evmProxy.dropRequest = undefined;
    // The journaled bytes were sent again: the lost transaction is the one that minted.
    expect(lost).toBeDefined();
    expect(minted.map((d) => d.mintTx)).toContain(lost);
    for (const transfer of transfers) expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.wrappedBalance()).toBe(balance + 161n + 162n);
  });

  it('signs a mint again when a later mint took the nonce of its lost transaction', async () => {
    const balance = await t.wrappedBalance();
    // The first deposit's mint never reaches the node, however often it is sent ...
    let lost: string | undefined;
    t.evmProxy.dropRequest = (req) => {
      if (rpc(req).method !== 'eth_sendRawTransaction') return false;
      const hash = Transaction.from(rpc(req).params?.[0] as string).hash as string;
      lost ??= hash;
      return hash === lost;
    };
    const first = await t.deposit('171', memo);
    await eventually(
      async () => (await t.depositOf(first))?.mintTx === lost && lost !== undefined,
      30_000,
      'lost',
    );
    // ... and the next mint is signed with the node's count: the lost one's nonce.
    const second = await t.deposit('172', memo);
    await t.waitDeposit(second, 'minted');
    t.evmProxy.dropRequest = undefined;
    const done = await t.waitDeposit(first, 'minted');
    expect(done.mintTx).not.toBe(lost);
    expect(await t.provider.getTransaction(lost as string)).toBeNull();
    for (const transfer of [first, second]) expect(await t.mintedEvents(transfer)).toBe(1);
    expect(await t.wrappedBalance()).toBe(balance + 171n + 172n);
  });

  it('starts while the EVM node is down: serves its API not ready, then opens when the node is back', async () => {
    t.evmProxy.down = true;
    await t.restartBridge();
    expect((await fetch(`${t.bridge.url}/healthz`)).status).toBe(200);
    expect(await readyz()).toBe(503);
    const status = await fetch(`${t.bridge.url}/v1/status`);
    expect(status.status).toBe(503);
    expect(((await status.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'E_UNAVAILABLE',
      message: expect.stringMatching(/^the bridge is starting/),
    });
    t.evmProxy.down = false;
    await eventually(async () => (await readyz()) === 200, 30_000, 'the bridge to be ready');
    expect((await t.api.status()).evm.reachable).toBe(true);
  });

  it('releases burns proven while the core was down once it is back', async () => {
    const alice = await t.dsmBalance(t.alice);
    t.coreProxy.down = true;
    await eventually(async () => !(await t.api.status()).dsm.reachable, 30_000, 'the DSM side to be down');
    expect((await t.api.status()).dsm.lastError).toEqual(expect.any(String));
    const { id } = await t.withdraw(151n);
    await eventually(
      async () => ['proven', 'releasing'].includes((await t.withdrawalOf(id))?.status ?? ''),
      30_000,
      'the burn to be proven',
    );
    expect(await t.inboxWith(releaseMemo(id))).toHaveLength(0);
    expect(await readyz()).toBe(503);

    t.coreProxy.down = false;
    await releasedOnce(id, 151n, alice);
    await eventually(async () => (await t.api.status()).dsm.reachable, 30_000, 'the DSM side to be up');
  });

  it.each([
    ['on another chain', { chainId: 1 }, /DSM_BRIDGE_CHAIN_ID/],
    ['without a contract at its address', { contract: `0x${'11'.repeat(20)}` }, /DSM_BRIDGE_CONTRACT/],
    ['without a contract address', { contract: '' }, /DSM_BRIDGE_CONTRACT/],
  ])('refuses to start %s', async (what, change, named) => {
    const dir = join(t.net.cluster.root, `bridge-${what.replace(/\W+/g, '-')}`);
    const wrong = new BridgeProcess(dir, { ...t.bridge.settings, ...change });
    await expect(wrong.start()).rejects.toThrow(named);
    expect(wrong.child?.exitCode).toEqual(expect.any(Number));
    expect(wrong.child?.exitCode).not.toBe(0);
  });
});
