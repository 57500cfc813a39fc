// Receipt and header proofs against a real EVM node: `hardhat node` as a child process on a free 127.0.0.1
// port. One block is mined by hand with many transactions of every type (legacy, EIP-2930, EIP-1559, a
// contract deployment, burns emitting BurnToDsm, a reverted call), so its receipts trie has branches.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DevChain } from '@dsm/testkit';
import { ContractFactory, JsonRpcProvider, Wallet, concat, keccak256, toUtf8Bytes } from 'ethers';
import type { JsonRpcSigner } from 'ethers';
import { isDsmError } from '@dsm/protocol';
import type { DsmErrorCode } from '@dsm/protocol';
import { deployDsmBridge, dsmBridgeAbi, dsmBridgeBytecode, dsmIdDigest } from '@dsm/bridge/contracts';
import type { DsmBridge } from '@dsm/bridge/contracts';
import { fetchProvenBlock, headerHash, verifyReceiptProof } from '../src/evm/proof.js';
import type { EvmRpc, ProvenLog, RpcBlock, RpcReceipt } from '../src/evm/proof.js';

const chain = new DevChain();
let provider: JsonRpcProvider;
let bridge: DsmBridge;
let bridgeAddress: string;
let tokenAddress: string;
let burnTopic: string;
/** The block mined by hand, and the number of an empty block after it. */
let busy: number;
let empty: number;

const attester = Wallet.createRandom();
const dsmId = (label: string): Uint8Array =>
  Uint8Array.from(Buffer.from(concat(['0x01711e20', keccak256(toUtf8Bytes(label))]).slice(2), 'hex'));
const DSM_TOKEN = dsmIdDigest(dsmId('token:GOLD'));
const RECIPIENT = dsmId('recipient');

const signer = (i: number) => provider.getSigner(i);

/** Mints `amount` wrapped GOLD to `to` with an attestation of the bridge's one signer. */
async function mintTo(to: string, amount: bigint): Promise<void> {
  const mint = {
    dsmTransferId: dsmIdDigest(dsmId(`transfer:${to}`)),
    dsmTokenId: DSM_TOKEN,
    recipient: to,
    amount,
  };
  const domain = { name: 'DsmBridge', version: '1', chainId: 31337n, verifyingContract: bridgeAddress };
  const types = {
    Mint: [
      { name: 'dsmTransferId', type: 'bytes32' },
      { name: 'dsmTokenId', type: 'bytes32' },
      { name: 'recipient', type: 'address' },
      { name: 'amount', type: 'uint256' },
    ],
  };
  const signature = await attester.signTypedData(domain, types, mint);
  await (await bridge.mint(mint.dsmTransferId, mint.dsmTokenId, to, amount, [signature])).wait();
}

const GAS_PRICE = 3_000_000_000n;
/**
 * Fee fields that make the node pick the transaction type: it infers the type from the fields sent
 * (a `type` alone is ignored): gasPrice = legacy, + accessList = EIP-2930, neither = EIP-1559.
 */
const typed = (type: number) =>
  type === 0 ? { gasPrice: GAS_PRICE } : type === 1 ? { gasPrice: GAS_PRICE, accessList: [] } : {};

/** Queues transactions of every kind with automine off, then mines them into one block. */
async function mineBusyBlock(): Promise<number> {
  const [admin, user, other] = (await Promise.all([0, 1, 2].map(signer))) as JsonRpcSigner[];
  const senders = await Promise.all([3, 4, 5, 6, 7, 8].map(signer));
  const to = await signer(9).then((s) => s.getAddress());
  const deployment = await new ContractFactory(dsmBridgeAbi, dsmBridgeBytecode).getDeployTransaction(
    await admin!.getAddress(),
    [attester.address],
    1,
  );
  await provider.send('evm_setAutomine', [false]);
  try {
    // One account's transactions serially; the node assigns their nonces from its pending pool.
    for (const [i, sender] of senders.entries()) {
      for (const round of [0, 1, 2]) {
        await sender.sendTransaction({ to, value: BigInt(1 + i + round), ...typed((i + round) % 3) });
      }
    }
    await admin!.sendTransaction(deployment);
    // Explicit gas limits: the node estimates against its pending state but orders the block by fee, so
    // an estimate can fall short (the first burn pays for setting the nonce slot from zero).
    const gasLimit = 300_000n;
    const asUser = bridge.connect(user!) as DsmBridge;
    await asUser.burnToDsm(tokenAddress, 100n, RECIPIENT, { gasLimit });
    await asUser.burnToDsm(tokenAddress, 250n, RECIPIENT, { gasLimit });
    await (bridge.connect(other!) as DsmBridge).burnToDsm(tokenAddress, 7n, RECIPIENT, {
      ...typed(0),
      gasLimit,
    });
    // Reverts (ZeroAmount): a status-0 receipt with no logs.
    await asUser.burnToDsm(tokenAddress, 0n, RECIPIENT, { gasLimit });
    await provider.send('evm_mine', []);
  } finally {
    await provider.send('evm_setAutomine', [true]);
  }
  return provider.getBlockNumber();
}

const block = (n: number): Promise<RpcBlock> =>
  provider.send('eth_getBlockByNumber', [`0x${n.toString(16)}`, false]);
const receiptsOf = async (n: number): Promise<RpcReceipt[]> =>
  Promise.all((await block(n)).transactions.map((tx) => provider.send('eth_getTransactionReceipt', [tx])));

/** The node's own view of the block's logs from `address`, to compare with the proven ones. */
async function nodeLogs(n: number, address: string, topic0?: string) {
  const logs: {
    transactionIndex: string;
    logIndex: string;
    transactionHash: string;
    topics: string[];
    data: string;
  }[] = await provider.send('eth_getLogs', [{ blockHash: (await block(n)).hash, address }]);
  return logs
    .filter((log) => topic0 === undefined || log.topics[0] === topic0)
    .map((log) => [
      Number(log.transactionIndex),
      Number(log.logIndex),
      log.transactionHash,
      log.topics,
      log.data,
    ]);
}
const provenView = (logs: ProvenLog[]) =>
  logs.map((log) => [log.txIndex, log.logIndex, log.txHash, log.topics, log.data]);

/** An RPC that answers like the node, except where `alter` changes an answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test edits raw JSON-RPC answers
function lying(alter: (method: string, result: any) => unknown): EvmRpc {
  return {
    send: async (method, params) => alter(method, structuredClone(await provider.send(method, params))),
  };
}

/** An RPC with eth_getBlockReceipts (assembled from the node's per-transaction answers), counting calls. */
function withBlockReceipts(alter: (receipts: RpcReceipt[]) => RpcReceipt[] = (r) => r) {
  const calls: string[] = [];
  const rpc: EvmRpc = {
    send: async (method, params) => {
      calls.push(method);
      if (method !== 'eth_getBlockReceipts') return provider.send(method, params);
      const n = Number((await provider.send('eth_getBlockByHash', [params[0], false])).number);
      return alter(await receiptsOf(n));
    },
  };
  return { rpc, calls };
}

async function failsWith(call: Promise<unknown>, code: DsmErrorCode = 'E_PROOF') {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDsmError(error, code)) throw new Error(`expected ${code}, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  const url = (await chain.start()).url;
  provider = new JsonRpcProvider(url, undefined, {
    cacheTimeout: -1,
    staticNetwork: true,
    pollingInterval: 50,
  });
  const admin = await signer(0);
  bridge = await deployDsmBridge(admin, await admin.getAddress(), [attester.address], 1);
  bridgeAddress = await bridge.getAddress();
  await (await bridge.deployToken(DSM_TOKEN, 'DSM Gold', 'dGOLD', 6)).wait();
  tokenAddress = await bridge.wrappedToken(DSM_TOKEN);
  burnTopic = bridge.interface.getEvent('BurnToDsm')!.topicHash;
  await mintTo(await signer(1).then((s) => s.getAddress()), 1000n);
  await mintTo(await signer(2).then((s) => s.getAddress()), 1000n);
  busy = await mineBusyBlock();
  await provider.send('evm_mine', []);
  empty = busy + 1;
}, 60_000);

afterAll(async () => {
  provider?.destroy();
  await chain.stop();
});

describe('EVM proofs on a hardhat node', () => {
  it('the busy block holds legacy, EIP-2930 and EIP-1559 receipts, a deployment and a reverted call', async () => {
    const receipts = await receiptsOf(busy);
    expect(receipts.length).toBe(23);
    expect(new Set(receipts.map((r) => r.type))).toEqual(new Set(['0x0', '0x1', '0x2']));
    expect(receipts.filter((r) => r.status === '0x0').length).toBe(1);
    expect(receipts.some((r) => (r as unknown as { contractAddress: string | null }).contractAddress)).toBe(
      true,
    );
  });

  it('fetchProvenBlock proves the block and returns exactly the BurnToDsm logs, with the node’s logIndex', async () => {
    const proven = await fetchProvenBlock(provider, busy, { address: bridgeAddress, topic0: burnTopic });
    const header = await block(busy);
    expect(proven).toMatchObject({
      number: busy,
      hash: header.hash,
      parentHash: header.parentHash,
      receiptsRoot: header.receiptsRoot,
    });
    expect(provenView(proven.logs)).toEqual(await nodeLogs(busy, bridgeAddress, burnTopic));
    const burns = proven.logs.map((log) => bridge.interface.parseLog(log)!.args);
    // The node orders the block by fee, not by submission: nonces follow the block, amounts are the three burns.
    expect(burns.map((args) => args.nonce)).toEqual([0n, 1n, 2n]);
    expect(burns.map((args) => args.amount as bigint).sort((x, y) => Number(x - y))).toEqual([
      7n,
      100n,
      250n,
    ]);
    // Without topic0: every log of the bridge (the bridge deployed in this block logs from its own address).
    const all = await fetchProvenBlock(provider, busy, { address: bridgeAddress.toLowerCase() });
    expect(provenView(all.logs)).toEqual(await nodeLogs(busy, bridgeAddress));
    // The token's Transfer (burn) logs sit between the bridge's: logIndex counts across addresses.
    const transfers = await fetchProvenBlock(provider, busy, { address: tokenAddress });
    expect(provenView(transfers.logs)).toEqual(await nodeLogs(busy, tokenAddress));
    expect(transfers.logs.length).toBe(3);
  });

  it('proves every block of the chain and recomputes every header hash, the empty block included', async () => {
    const latest = await provider.getBlockNumber();
    expect(latest).toBe(empty);
    for (let n = 0; n <= latest; n++) {
      const header = await block(n);
      expect(headerHash(header)).toBe(header.hash);
      const proven = await fetchProvenBlock(provider, n, { address: bridgeAddress });
      expect(provenView(proven.logs)).toEqual(await nodeLogs(n, bridgeAddress));
    }
    const none = await fetchProvenBlock(provider, empty, { address: bridgeAddress });
    expect(none).toMatchObject({ number: empty, logs: [] });
    expect((await block(empty)).transactions).toEqual([]);
  });

  it('uses eth_getBlockReceipts where the node has it, and checks what it returns', async () => {
    const honest = withBlockReceipts();
    const proven = await fetchProvenBlock(honest.rpc, busy, { address: bridgeAddress, topic0: burnTopic });
    expect(proven.logs.length).toBe(3);
    expect(honest.calls).toEqual(['eth_getBlockByNumber', 'eth_getBlockReceipts']);
    const dropped = withBlockReceipts((receipts) => receipts.slice(1));
    await failsWith(fetchProvenBlock(dropped.rpc, busy, { address: bridgeAddress }));
    const reordered = withBlockReceipts((receipts) => [...receipts].reverse());
    await failsWith(fetchProvenBlock(reordered.rpc, busy, { address: bridgeAddress }));
  });

  it('a lying RPC is caught: a receipt log changed, a receipt dropped, a header field or a logIndex altered', async () => {
    const filter = { address: bridgeAddress, topic0: burnTopic };
    const burnTx = (await fetchProvenBlock(provider, busy, filter)).logs[0]!.txHash;
    const changedData = lying((method, result) => {
      if (method === 'eth_getTransactionReceipt' && result.transactionHash === burnTx) {
        result.logs.at(-1).data = result.logs
          .at(-1)
          .data.replace(/.$/, (c: string) => (c === '0' ? '1' : '0'));
      }
      return result;
    });
    expect((await failsWith(fetchProvenBlock(changedData, busy, filter))).details).toMatchObject({
      block: busy,
      field: 'receiptsRoot',
    });

    let seen = 0;
    const droppedReceipt = lying((method, result) =>
      method === 'eth_getTransactionReceipt' && seen++ === 5 ? null : result,
    );
    await failsWith(fetchProvenBlock(droppedReceipt, busy, filter));

    for (const [field, value] of [
      ['gasUsed', '0x1'],
      ['stateRoot', `0x${'11'.repeat(32)}`],
      ['receiptsRoot', `0x${'22'.repeat(32)}`],
      ['requestsHash', undefined],
    ] as const) {
      const header = lying((method, result) =>
        method === 'eth_getBlockByNumber' ? { ...result, [field]: value } : result,
      );
      expect((await failsWith(fetchProvenBlock(header, busy, filter))).details).toMatchObject({
        field: 'hash',
      });
    }

    const shiftedIndex = lying((method, result) => {
      if (method === 'eth_getTransactionReceipt' && result.transactionHash === burnTx) {
        for (const log of result.logs) log.logIndex = `0x${(Number(log.logIndex) + 1).toString(16)}`;
      }
      return result;
    });
    expect((await failsWith(fetchProvenBlock(shiftedIndex, busy, filter))).details).toMatchObject({
      field: 'logIndex',
    });

    const otherBlock = lying((method, result) =>
      method === 'eth_getBlockByNumber' ? provider.send('eth_getBlockByNumber', ['0x1', false]) : result,
    );
    expect((await failsWith(fetchProvenBlock(otherBlock, busy, filter))).details).toMatchObject({
      field: 'number',
    });
  });

  it('a block the node does not have yet is E_UNAVAILABLE, not a proof failure', async () => {
    await failsWith(fetchProvenBlock(provider, empty + 10, { address: bridgeAddress }), 'E_UNAVAILABLE');
  });

  it('verifyReceiptProof accepts the stored proofs and rejects tampered ones', async () => {
    const proven = await fetchProvenBlock(provider, busy, { address: bridgeAddress, topic0: burnTopic });
    const stored = JSON.parse(JSON.stringify(proven.logs)) as ProvenLog[];
    const other = await block(busy - 1);
    for (const log of stored) {
      const logs = await verifyReceiptProof(log.receiptsRoot, log.txIndex, log.proof);
      expect(logs).toContainEqual({
        address: bridgeAddress.toLowerCase(),
        topics: log.topics,
        data: log.data,
      });
      const last = log.proof.at(-1)!;
      const changed = [...log.proof.slice(0, -1), last.slice(0, -2) + (last.endsWith('00') ? '01' : '00')];
      await failsWith(verifyReceiptProof(log.receiptsRoot, log.txIndex, changed));
      await failsWith(verifyReceiptProof(log.receiptsRoot, log.txIndex, log.proof.slice(1)));
      await failsWith(verifyReceiptProof(log.receiptsRoot, log.txIndex, log.proof.slice(0, -1)));
      await failsWith(verifyReceiptProof(log.receiptsRoot, log.txIndex + 30, log.proof));
      await failsWith(verifyReceiptProof(other.receiptsRoot, log.txIndex, log.proof));
    }
    // A proof is for one index: another receipt of the same block is not reached through it.
    const [a, b] = stored.filter((log, i, all) => all.findIndex((l) => l.txIndex === log.txIndex) === i);
    await failsWith(verifyReceiptProof(a!.receiptsRoot, b!.txIndex, a!.proof));
  });
});
