// DsmBridge and WrappedDsmToken on a real EVM node: `hardhat node` (chain id 31337, testkit DevChain) on a
// free 127.0.0.1 port, driven with ethers 6 through the generated bindings.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DevChain } from '@dsm/testkit';
import { JsonRpcProvider, Wallet, concat, hexlify, keccak256, toUtf8Bytes } from 'ethers';
import type { HDNodeWallet, JsonRpcSigner, TransactionReceipt } from 'ethers';
import { deployDsmBridge, dsmIdDigest, wrappedDsmTokenAt } from '@dsm/bridge/contracts';
import type { DsmBridge, WrappedDsmToken } from '@dsm/bridge/contracts';

const CHAIN_ID = 31337n;

const chain = new DevChain();
let provider: JsonRpcProvider;
let admin: JsonRpcSigner;
let user: JsonRpcSigner;
let stranger: JsonRpcSigner;
let bridge: DsmBridge;
let token: WrappedDsmToken;
let bridgeAddress: string;
// Bridge signers: keys of their own, never funded (they only sign attestations).
const signers = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()].sort((a, b) =>
  BigInt(a.address) < BigInt(b.address) ? -1 : 1,
);
const [s0, s1, s2] = signers as [HDNodeWallet, HDNodeWallet, HDNodeWallet];

/** A 36-byte DSM id (0x01711e20 ‖ digest) made from a label. */
const dsmId = (label: string): Uint8Array =>
  Uint8Array.from(Buffer.from(concat(['0x01711e20', keccak256(toUtf8Bytes(label))]).slice(2), 'hex'));
const DSM_TOKEN = dsmIdDigest(dsmId('token:GOLD'));
let transfers = 0;
const nextTransferId = () => dsmIdDigest(dsmId(`transfer:${transfers++}`));

interface Mint {
  dsmTransferId: string;
  dsmTokenId: string;
  recipient: string;
  amount: bigint;
}

/** An EIP-712 `Mint` attestation signed by `by`, in the given order. */
async function attest(mint: Mint, by: HDNodeWallet[], chainId = CHAIN_ID, verifyingContract = bridgeAddress) {
  const domain = { name: 'DsmBridge', version: '1', chainId, verifyingContract };
  const types = {
    Mint: [
      { name: 'dsmTransferId', type: 'bytes32' },
      { name: 'dsmTokenId', type: 'bytes32' },
      { name: 'recipient', type: 'address' },
      { name: 'amount', type: 'uint256' },
    ],
  };
  return Promise.all(by.map((wallet) => wallet.signTypedData(domain, types, mint)));
}

const submit = (mint: Mint, signatures: string[]) =>
  bridge.mint(mint.dsmTransferId, mint.dsmTokenId, mint.recipient, mint.amount, signatures);

/** Waits for a transaction and returns its receipt. */
async function mined(
  sent: Promise<{ wait(): Promise<TransactionReceipt | null> }>,
): Promise<TransactionReceipt> {
  const receipt = await (await sent).wait();
  if (!receipt) throw new Error('no receipt');
  return receipt;
}

/** The call reverts with the custom error `name` (decoded with the contracts' ABIs). */
async function rejectsWith(call: Promise<unknown>, name: string): Promise<void> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).not.toBeNull();
  // A JsonRpcSigner estimates gas before the contract sees the error: decode the revert data here.
  const data = (error as { data?: string | null }).data;
  const decoded = data ? (bridge.interface.parseError(data) ?? token.interface.parseError(data)) : null;
  expect(decoded?.name).toBe(name);
}

function events(receipt: TransactionReceipt, name: string) {
  return receipt.logs
    .filter((log) => log.address === bridgeAddress)
    .map((log) => bridge.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed!.args);
}

beforeAll(async () => {
  const url = (await chain.start()).url;
  provider = new JsonRpcProvider(url, undefined, {
    cacheTimeout: -1,
    staticNetwork: true,
    pollingInterval: 50,
  });
  [admin, user, stranger] = (await Promise.all([0, 1, 2].map((i) => provider.getSigner(i)))) as [
    JsonRpcSigner,
    JsonRpcSigner,
    JsonRpcSigner,
  ];
  bridge = await deployDsmBridge(
    admin,
    await admin.getAddress(),
    signers.map((s) => s.address),
    2,
  );
  bridgeAddress = await bridge.getAddress();
  const receipt = await mined(bridge.deployToken(DSM_TOKEN, 'DSM Gold', 'dGOLD', 6));
  const [deployed] = events(receipt, 'TokenDeployed');
  token = wrappedDsmTokenAt(deployed!.token as string, provider);
}, 30_000);

afterAll(async () => {
  provider?.destroy();
  await chain.stop();
});

describe('DsmBridge on a hardhat node', () => {
  it('deploys one wrapped token per DSM token, with its name, symbol and decimals', async () => {
    expect(await provider.getNetwork().then((n) => n.chainId)).toBe(CHAIN_ID);
    expect(await token.name()).toBe('DSM Gold');
    expect(await token.symbol()).toBe('dGOLD');
    expect(await token.decimals()).toBe(6n);
    expect(await token.bridge()).toBe(bridgeAddress);
    expect(await token.dsmTokenId()).toBe(DSM_TOKEN);
    expect(await bridge.wrappedToken(DSM_TOKEN)).toBe(await token.getAddress());
    await rejectsWith(bridge.deployToken(DSM_TOKEN, 'Again', 'AGN', 6), 'TokenAlreadyDeployed');
    expect(await bridge.threshold()).toBe(2n);
    expect((await bridge.signers()).length).toBe(3);
  });

  it('a threshold attestation mints, once: a replay of the same DSM transfer id is rejected', async () => {
    const mint = {
      dsmTransferId: nextTransferId(),
      dsmTokenId: DSM_TOKEN,
      recipient: await user.getAddress(),
      amount: 1000n,
    };
    const signatures = await attest(mint, [s0, s2]);
    const receipt = await mined(submit(mint, signatures));
    expect(events(receipt, 'Minted').map((args) => args.amount)).toEqual([1000n]);
    expect(await token.balanceOf(mint.recipient)).toBe(1000n);
    expect(await bridge.minted(mint.dsmTransferId)).toBe(true);

    await rejectsWith(submit(mint, signatures), 'AlreadyMinted');
    await rejectsWith(submit(mint, await attest(mint, [s0, s1, s2])), 'AlreadyMinted');
    expect(await token.totalSupply()).toBe(1000n);
  });

  it('rejects fewer signatures than the threshold, a duplicate signer, unsorted or tampered attestations', async () => {
    const mint = {
      dsmTransferId: nextTransferId(),
      dsmTokenId: DSM_TOKEN,
      recipient: await user.getAddress(),
      amount: 5n,
    };
    const [a, b] = (await attest(mint, [s0, s1])) as [string, string];
    await rejectsWith(submit(mint, [a]), 'NotEnoughSignatures');
    await rejectsWith(submit(mint, []), 'NotEnoughSignatures');
    await rejectsWith(submit(mint, [a, a]), 'SignersNotSorted');
    await rejectsWith(submit(mint, [b, a]), 'SignersNotSorted');
    await rejectsWith(submit({ ...mint, amount: 6n }, [a, b]), 'NotASigner');
    await rejectsWith(submit(mint, [a, hexlify(new Uint8Array(65))]), 'ECDSAInvalidSignature');
    // A signature over another EIP-712 domain (another bridge address) recovers to nobody we know.
    await rejectsWith(
      submit(mint, await attest(mint, [s0, s1], CHAIN_ID, Wallet.createRandom().address)),
      'NotASigner',
    );
    expect(await bridge.minted(mint.dsmTransferId)).toBe(false);
  });

  it('rejects an attestation whose EIP-712 domain names another chain id', async () => {
    const mint = {
      dsmTransferId: nextTransferId(),
      dsmTokenId: DSM_TOKEN,
      recipient: await user.getAddress(),
      amount: 7n,
    };
    await rejectsWith(submit(mint, await attest(mint, [s0, s1], 1n)), 'NotASigner');
    await rejectsWith(submit(mint, await attest(mint, [s0, s1], CHAIN_ID + 1n)), 'NotASigner');
    await mined(submit(mint, await attest(mint, [s0, s1], CHAIN_ID)));
    expect(await bridge.minted(mint.dsmTransferId)).toBe(true);
  });

  it('the admin changes signers and threshold, with events; a removed signer no longer counts', async () => {
    const mint = {
      dsmTransferId: nextTransferId(),
      dsmTokenId: DSM_TOKEN,
      recipient: await user.getAddress(),
      amount: 9n,
    };
    const signatures = await attest(mint, [s0, s2]);
    const removed = await mined(bridge.removeSigner(s2.address));
    expect(events(removed, 'SignerRemoved').map((args) => args.signer)).toEqual([s2.address]);
    expect(await bridge.isSigner(s2.address)).toBe(false);
    await rejectsWith(submit(mint, signatures), 'NotASigner');
    // Two signers left, threshold 2: removing another would leave fewer signers than the threshold.
    await rejectsWith(bridge.removeSigner(s1.address), 'InvalidThreshold');
    await rejectsWith(bridge.setThreshold(3), 'InvalidThreshold');
    await rejectsWith(bridge.setThreshold(0), 'InvalidThreshold');
    await rejectsWith(bridge.addSigner(s0.address), 'SignerAlreadyAdded');

    const lowered = await mined(bridge.setThreshold(1));
    expect(
      events(lowered, 'ThresholdChanged').map((args) => [args.previousThreshold, args.newThreshold]),
    ).toEqual([[2n, 1n]]);
    await rejectsWith(submit(mint, await attest(mint, [s2])), 'NotASigner');
    await mined(submit(mint, await attest(mint, [s1])));

    const added = await mined(bridge.addSigner(s2.address));
    expect(events(added, 'SignerAdded').map((args) => args.signer)).toEqual([s2.address]);
    await mined(bridge.setThreshold(2));
    expect(await bridge.threshold()).toBe(2n);
  });

  it('rejects unauthorized roles: signers, pause, token deployment, minting on the wrapped token', async () => {
    const asStranger = bridge.connect(stranger) as DsmBridge;
    await rejectsWith(
      asStranger.addSigner(Wallet.createRandom().address),
      'AccessControlUnauthorizedAccount',
    );
    await rejectsWith(asStranger.removeSigner(s0.address), 'AccessControlUnauthorizedAccount');
    await rejectsWith(asStranger.setThreshold(1), 'AccessControlUnauthorizedAccount');
    await rejectsWith(asStranger.pause(), 'AccessControlUnauthorizedAccount');
    await rejectsWith(
      asStranger.deployToken(dsmIdDigest(dsmId('token:X')), 'X', 'X', 0),
      'AccessControlUnauthorizedAccount',
    );
    const tokenAsStranger = token.connect(stranger) as WrappedDsmToken;
    await rejectsWith(tokenAsStranger.mint(await stranger.getAddress(), 1n), 'OnlyBridge');
    await rejectsWith(tokenAsStranger.burn(await user.getAddress(), 1n), 'OnlyBridge');
    // Not even the bridge's admin mints on the token directly.
    await rejectsWith(
      (token.connect(admin) as WrappedDsmToken).mint(await admin.getAddress(), 1n),
      'OnlyBridge',
    );
  });

  it('paused: mint and burnToDsm are rejected until the pauser unpauses', async () => {
    const mint = {
      dsmTransferId: nextTransferId(),
      dsmTokenId: DSM_TOKEN,
      recipient: await user.getAddress(),
      amount: 3n,
    };
    const signatures = await attest(mint, [s0, s1]);
    await mined(bridge.pause());
    expect(await bridge.paused()).toBe(true);
    await rejectsWith(submit(mint, signatures), 'EnforcedPause');
    const asUser = bridge.connect(user) as DsmBridge;
    await rejectsWith(asUser.burnToDsm(await token.getAddress(), 1n, dsmId('recipient')), 'EnforcedPause');
    await mined(bridge.unpause());
    await mined(submit(mint, signatures));
    expect(await bridge.minted(mint.dsmTransferId)).toBe(true);
  });

  it('burnToDsm rejects a malformed DSM recipient; a good one burns and emits BurnToDsm with increasing nonces', async () => {
    const asUser = bridge.connect(user) as DsmBridge;
    const from = await user.getAddress();
    const tokenAddress = await token.getAddress();
    const good = dsmId('recipient');
    const malformed = [
      good.slice(0, 35),
      concat([good, '0x00']),
      concat(['0x01711e21', good.slice(4)]),
      concat(['0x01711e20', new Uint8Array(32)]),
      new Uint8Array(0),
    ];
    for (const recipient of malformed) {
      await rejectsWith(asUser.burnToDsm(tokenAddress, 1n, recipient), 'MalformedDsmRecipient');
    }
    await rejectsWith(asUser.burnToDsm(tokenAddress, 0n, good), 'ZeroAmount');
    await rejectsWith(asUser.burnToDsm(bridgeAddress, 1n, good), 'UnknownToken');

    const balance = await token.balanceOf(from);
    const supply = await token.totalSupply();
    const nonces: bigint[] = [];
    for (const amount of [100n, 250n]) {
      const receipt = await mined(asUser.burnToDsm(tokenAddress, amount, good));
      const [burn] = events(receipt, 'BurnToDsm');
      expect([burn!.token, burn!.from, burn!.amount, burn!.dsmRecipient]).toEqual([
        tokenAddress,
        from,
        amount,
        hexlify(good),
      ]);
      nonces.push(burn!.nonce as bigint);
    }
    expect(nonces).toEqual([0n, 1n]);
    expect(await bridge.burnNonce()).toBe(2n);
    expect(await token.balanceOf(from)).toBe(balance - 350n);
    expect(await token.totalSupply()).toBe(supply - 350n);
    // More than the balance: the token refuses the burn.
    await expect(asUser.burnToDsm(tokenAddress, balance, good)).rejects.toThrow();
  });
});
