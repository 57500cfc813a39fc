// DSM → EVM → DSM through the real bridge process, core and storage processes and a hardhat node: supply is
// conserved on both sides, a bad memo is refunded, a token deploys once, the API and metrics say what happened.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@dsm/testkit';
import { BridgeNet, CHAIN_ID } from './bridge-net.js';

type Inbox = { entries: { transfer: string; memo?: string; amount: string; received: boolean }[] };

describe('bridge round trip', () => {
  const t = new BridgeNet();
  let bridgeId: string;

  beforeAll(async () => {
    await t.start();
    bridgeId = await t.bridgeIdentity();
  }, 120_000);
  afterAll(() => t.destroy());

  it('mints a deposit on the EVM chain once it is replicated and final', async () => {
    const transfer = await t.deposit('2500', `evm:${CHAIN_ID}:${t.userAddress}`);
    const minted = await t.waitDeposit(transfer, 'minted');
    expect(minted).toMatchObject({
      transfer,
      from: t.alice,
      token: t.token,
      amount: '2500',
      chainId: CHAIN_ID,
      recipient: t.userAddress.toLowerCase(),
    });
    expect(minted.mintTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(minted.mintBlock).toBeGreaterThan(0);
    expect(await t.wrappedBalance()).toBe(2500n);
    expect(await t.dsmBalance(bridgeId)).toBe(2500n);
    // The wrapped token carries the DSM token's name, symbol and decimals.
    const [wrapped] = await t.api.tokens();
    expect(wrapped).toMatchObject({ token: t.token, symbol: 'GOLD', name: 'Gold', decimals: 2 });
    // Lookups by the mint transaction find the same deposit.
    expect((await t.api.deposit(minted.mintTx as string))[0]?.transfer).toBe(transfer);
  });

  it('releases a proven burn on DSM with the burn named in the memo', async () => {
    const before = await t.dsmBalance(t.alice);
    const { id } = await t.withdraw(1000n);
    const released = await t.waitWithdrawal(id, 'released');
    expect(released).toMatchObject({ amount: '1000', recipient: t.alice, token: t.token, nonce: '0' });
    expect(released.proof.length).toBeGreaterThan(0);
    expect(released.receiptsRoot).toMatch(/^0x[0-9a-f]{64}$/);
    const [txHash, logIndex] = id.split(':');
    const inbox = await t.net.core.call<Inbox>('GET', `/v1/identities/${t.alice}/inbox`);
    const entry = inbox.body.entries.find((e) => e.memo === `evm:${CHAIN_ID}:${txHash}:${logIndex}`);
    expect(entry?.amount).toBe('1000');
    // The core receives it for alice (auto-receive): the round trip lands back where it started.
    await eventually(
      async () => (await t.dsmBalance(t.alice)) === before + 1000n,
      15_000,
      'alice to receive',
    );
    expect((await t.api.withdrawal(txHash as string))[0]?.id).toBe(id);
    expect((await t.api.withdrawal(released.release as string))[0]?.id).toBe(id);
  });

  it('keeps the supply invariant: wrapped supply = bridge balance, nothing in flight', async () => {
    await eventually(
      async () => {
        const status = await t.api.status();
        return (
          status.pending.deposits === 0 && status.pending.withdrawals === 0 && status.invariant.length === 1
        );
      },
      15_000,
      'nothing pending',
    );
    await eventually(
      async () => (await t.api.status()).invariant[0]?.wrappedSupply === '1500',
      15_000,
      'supply at B',
    );
    const status = await t.api.status();
    expect(status.invariant[0]).toMatchObject({
      dsmBalance: '1500',
      wrappedSupply: '1500',
      inFlight: '0',
      gap: '0',
    });
    expect(await t.wrappedSupply()).toBe(1500n);
    expect(await t.dsmBalance(bridgeId)).toBe(1500n);
    expect(status).toMatchObject({ chainId: CHAIN_ID, contract: t.contract, halted: null, threshold: 1 });
    expect(status.evm.reachable && status.dsm.reachable).toBe(true);
    expect(status.signers).toEqual(status.attesters);
  });

  it.each([
    [
      'a wrong chain',
      `evm:1:0x${'12'.repeat(20)}`,
      /^refund:wrong chain: this bridge serves chain 31337, not 1$/,
    ],
    ['a malformed address', `evm:${CHAIN_ID}:0x1234`, /^refund:malformed EVM address/],
    ['no memo of the bridge', 'thanks for the fish', /^refund:malformed memo/],
  ])('refunds a deposit with %s, the reason in the memo', async (_what, memo, reason) => {
    const before = await t.dsmBalance(t.alice);
    const supply = await t.wrappedSupply();
    const transfer = await t.deposit('7', memo);
    const refunded = await t.waitDeposit(transfer, 'refunded');
    expect(refunded.refund).toBeDefined();
    const inbox = await t.net.core.call<Inbox>('GET', `/v1/identities/${t.alice}/inbox`);
    expect(inbox.body.entries.find((e) => e.memo !== undefined && reason.test(e.memo))?.amount).toBe('7');
    await eventually(async () => (await t.dsmBalance(t.alice)) === before, 15_000, 'alice refunded');
    expect(await t.wrappedSupply()).toBe(supply);
  });

  it('serves metrics and refuses admin calls without the admin token', async () => {
    const metrics = await (await fetch(`${t.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/dsm_bridge_deposits_total\{result="minted"\} 1/);
    expect(metrics).toMatch(/dsm_bridge_deposits_total\{result="refunded"\} 3/);
    expect(metrics).toMatch(/dsm_bridge_withdrawals_total\{result="released"\} 1/);
    expect(metrics).toMatch(/dsm_bridge_invariant_gap\{token="[a-z0-9]+"\} 0/);
    expect(metrics).toMatch(/dsm_bridge_halted 0/);
    const denied = await fetch(`${t.bridge.url}/v1/admin/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: t.token }),
    });
    expect(denied.status).toBe(401);
    // A body that is not a deploy request is refused with a stable code, naming the field.
    const bad = await fetch(`${t.bridge.url}/v1/admin/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.bridge.adminToken}` },
      body: JSON.stringify({ token: t.token, extra: 1 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('E_BAD_REQUEST');
    // With the token: the token exists already, so nothing is deployed.
    expect(await t.api.deployToken(t.token)).toMatchObject({ token: t.token, deployed: false });
    expect((await fetch(`${t.bridge.url}/readyz`)).status).toBe(200);
  });
});
