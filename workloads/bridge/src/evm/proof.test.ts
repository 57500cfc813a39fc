// Receipt and header proofs on fixed data: blocks 0–2 and the receipts of block 2 as a hardhat 3.18 node
// (EDR 0.3.8, Prague) returned them, trimmed to the fields the proof reads. Block 2 holds a legacy transfer, a
// legacy deployment emitting two logs, an EIP-1559 transfer, a reverted EIP-1559 deployment (status 0) and an
// EIP-1559 deployment emitting two logs.
import { describe, expect, it } from '@jest/globals';
import { concat, encodeRlp, hexlify } from 'ethers';
import { isDsmError } from '@dsm/protocol';
import { decodeReceiptLogs, encodeReceipt, headerHash, proveBlockLogs, verifyReceiptProof } from './proof.js';
import type { RpcBlock, RpcReceipt } from './proof.js';

const ZERO_BLOOM = '0x' + '00'.repeat(256);

const GENESIS: RpcBlock = {
  number: '0x0',
  hash: '0x4bcc1ae51cb1608b38e6a061436a47eee257715be2f30bbd28b7c476e17c41b9',
  parentHash: '0x0000000000000000000000000000000000000000000000000000000000000000',
  sha3Uncles: '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347',
  miner: '0x0000000000000000000000000000000000000000',
  stateRoot: '0xc2b8dc215b5234bd853bb9c2895bb0c2c2642e81d4ed7c370cf716ca269d34e7',
  transactionsRoot: '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
  receiptsRoot: '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
  logsBloom: ZERO_BLOOM,
  difficulty: '0x0',
  gasLimit: '0x3938700',
  gasUsed: '0x0',
  timestamp: '0x6b0e8628',
  extraData: '0x1234',
  mixHash: '0x53c5ae3ce8eefbfad3aca77e5f4e1b19a949b04e2e5ce7a24fbb64422f14f0bf',
  nonce: '0x0000000000000000',
  baseFeePerGas: '0x3b9aca00',
  withdrawalsRoot: '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
  blobGasUsed: '0x0',
  excessBlobGas: '0x0',
  parentBeaconBlockRoot: '0x0000000000000000000000000000000000000000000000000000000000000000',
  requestsHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  transactions: [],
};

const BLOCK_1: RpcBlock = {
  number: '0x1',
  hash: '0xfda2abdde46bc64a808341bb7ea5c9cf20581226e181afdebf8456ec11870d77',
  parentHash: '0x4bcc1ae51cb1608b38e6a061436a47eee257715be2f30bbd28b7c476e17c41b9',
  sha3Uncles: '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347',
  miner: '0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e',
  stateRoot: '0x9ece1460a7d717634d52e22addc54f73a1fc10e66a1602eb91130b06d0fff39f',
  transactionsRoot: '0xd0935cc19c4454152ece67bc9020ef1395c973001f2c1fe106dc1b0c678c9037',
  receiptsRoot: '0xbf78689acab7323902b212c0e2b5afec2396bd4847df3482ce4c304f8de18dbc',
  logsBloom:
    '0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080000000000000000000000000000000001000000000000000000000000000000000000000000000000040000000000000000000000000000000000000000000000000000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000080000000000000100000000000000000000',
  difficulty: '0x0',
  gasLimit: '0x3938700',
  gasUsed: '0x1cbc3',
  timestamp: '0x6b0e8636',
  extraData: '0x',
  mixHash: '0xf4fbfa6c8463f342eb58838d8c6b0661faf22e7076a518bf4deaddbf3fa8a112',
  nonce: '0x0000000000000000',
  baseFeePerGas: '0x342770c0',
  withdrawalsRoot: '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
  blobGasUsed: '0x0',
  excessBlobGas: '0x0',
  parentBeaconBlockRoot: '0xdd8876ba5af271ae9d93ececb192d6a7b4e6094ca5999756336279fd796b8619',
  requestsHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  transactions: [
    '0xf3ffd96b32242624724216457e9278d2adb43ced935b1ea28823923108af6aef',
    '0x6bc7ffcb88ddc9ff579c770790d04db5237d4a6b56e7cfac2190107061ecf777',
    '0xe55730416045a835a8484c7fbfa66d9a0c4947dd850ea0be69b82107124ea73b',
    '0x192195ed0d6ae5f607c6e9713607e97a0e85828f8c365d9a9dc689379eed0bbd',
  ],
};

const BLOCK_2: RpcBlock = {
  number: '0x2',
  hash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
  parentHash: '0xfda2abdde46bc64a808341bb7ea5c9cf20581226e181afdebf8456ec11870d77',
  sha3Uncles: '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347',
  miner: '0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e',
  stateRoot: '0x840e7a8b698163c9fdcef6b6180ac98375f796d2626c0fc22c8dc7723c3a6790',
  transactionsRoot: '0x1169a6910cc28e40ff8fcb302e74bda64f8cb00e4fe63b1f22fda1a3f32da0a7',
  receiptsRoot: '0xd43628887770357f568d15ace6c6d757a97f935cdfafa2f7bad7d4a6ae055c72',
  logsBloom:
    '0x00000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000020240000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000000000000000000000000000000000000000000000040000000000000000000000000002000008000000002000000000000000000000000000000000000008000000001000000000000000000000000000000000000000000000000000000000000000000000000',
  difficulty: '0x0',
  gasLimit: '0x3938700',
  gasUsed: '0x32930',
  timestamp: '0x6b0e864b',
  extraData: '0x',
  mixHash: '0x36e0e2ad178d961006334c968a7f38fc9e049070a61e5b8203219acebd7bfd59',
  nonce: '0x0000000000000000',
  baseFeePerGas: '0x2da90edf',
  withdrawalsRoot: '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421',
  blobGasUsed: '0x0',
  excessBlobGas: '0x0',
  parentBeaconBlockRoot: '0x20ac26c307a8005e8e0c24ae0e18f5fb23fb724064e99ebccb2cb877faaa55ac',
  requestsHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  transactions: [
    '0xcc4045709b23d7b5cc7371db8c04a75449dfb0606795026d1a6555f4b16648da',
    '0x0870a6bc4cc980ac86e9c943ddef76e503ce289b830d2511a5b3e4364651331e',
    '0xe66ab089f1a4489f88d172824ab08f9462d1b89905772ba23c67d94cb357d456',
    '0xdb6fa5eb230f7e5c14be121df7566fc49f3c59cda174d03bddf77580a2cf84d9',
    '0xe99c919db711cebec302ac08ae5fe97c6cc0bab159c9ae9cae7285c424ce0e88',
  ],
};

const RECEIPTS_2: RpcReceipt[] = [
  {
    transactionHash: '0xcc4045709b23d7b5cc7371db8c04a75449dfb0606795026d1a6555f4b16648da',
    transactionIndex: '0x0',
    blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
    blockNumber: '0x2',
    type: '0x0',
    status: '0x1',
    cumulativeGasUsed: '0x5208',
    logsBloom: ZERO_BLOOM,
    logs: [],
  },
  {
    transactionHash: '0x0870a6bc4cc980ac86e9c943ddef76e503ce289b830d2511a5b3e4364651331e',
    transactionIndex: '0x1',
    blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
    blockNumber: '0x2',
    type: '0x0',
    status: '0x1',
    cumulativeGasUsed: '0x12cf4',
    logsBloom:
      '0x00000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000020240000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002000000000000002000000000000000000000000000000000000008000000001000000000000000000000000000000000000000000000000000000000000000000000000',
    logs: [
      {
        address: '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707',
        topics: [
          '0x2222222222222222222222222222222222222222222222222222222222222222',
          '0x1111111111111111111111111111111111111111111111111111111111111111',
        ],
        data: '0x000000000000000000000000000000000000000000000000000000000000002a',
        logIndex: '0x0',
        transactionIndex: '0x1',
        transactionHash: '0x0870a6bc4cc980ac86e9c943ddef76e503ce289b830d2511a5b3e4364651331e',
        blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
        blockNumber: '0x2',
      },
      {
        address: '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707',
        topics: [],
        data: '0x',
        logIndex: '0x1',
        transactionIndex: '0x1',
        transactionHash: '0x0870a6bc4cc980ac86e9c943ddef76e503ce289b830d2511a5b3e4364651331e',
        blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
        blockNumber: '0x2',
      },
    ],
  },
  {
    transactionHash: '0xe66ab089f1a4489f88d172824ab08f9462d1b89905772ba23c67d94cb357d456',
    transactionIndex: '0x2',
    blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
    blockNumber: '0x2',
    type: '0x2',
    status: '0x1',
    cumulativeGasUsed: '0x17efc',
    logsBloom: ZERO_BLOOM,
    logs: [],
  },
  {
    transactionHash: '0xdb6fa5eb230f7e5c14be121df7566fc49f3c59cda174d03bddf77580a2cf84d9',
    transactionIndex: '0x3',
    blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
    blockNumber: '0x2',
    type: '0x2',
    status: '0x0',
    cumulativeGasUsed: '0x24e44',
    logsBloom: ZERO_BLOOM,
    logs: [],
  },
  {
    transactionHash: '0xe99c919db711cebec302ac08ae5fe97c6cc0bab159c9ae9cae7285c424ce0e88',
    transactionIndex: '0x4',
    blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
    blockNumber: '0x2',
    type: '0x2',
    status: '0x1',
    cumulativeGasUsed: '0x32930',
    logsBloom:
      '0x00000000000000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000020000000000000000000000000000000000000000002000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000000000000000000000000000000000000000000000040000000000000000000000000002000008000000002000000000000000000000000000000000000008000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    logs: [
      {
        address: '0x2279b7a0a67db372996a5fab50d91eaa73d2ebe6',
        topics: [
          '0x2222222222222222222222222222222222222222222222222222222222222222',
          '0x1111111111111111111111111111111111111111111111111111111111111111',
        ],
        data: '0x000000000000000000000000000000000000000000000000000000000000002a',
        logIndex: '0x2',
        transactionIndex: '0x4',
        transactionHash: '0xe99c919db711cebec302ac08ae5fe97c6cc0bab159c9ae9cae7285c424ce0e88',
        blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
        blockNumber: '0x2',
      },
      {
        address: '0x2279b7a0a67db372996a5fab50d91eaa73d2ebe6',
        topics: [],
        data: '0x',
        logIndex: '0x3',
        transactionIndex: '0x4',
        transactionHash: '0xe99c919db711cebec302ac08ae5fe97c6cc0bab159c9ae9cae7285c424ce0e88',
        blockHash: '0x98f1a204a5093d963360e8653b1e2229463465b9321d41a0268804afb6148abf',
        blockNumber: '0x2',
      },
    ],
  },
];

const LOGGER_1 = '0x5fc8d32690cc91d4c39d9d3abcbd16989f875707';
const LOGGER_2 = RECEIPTS_2[4]!.logs[0]!.address;
const TOPIC_22 = '0x' + '22'.repeat(32);
const copy = <T>(value: T): T => structuredClone(value);

/** Resolves to the E_PROOF error the call fails with (and fails the test if it does not). */
async function proofError(call: () => Promise<unknown> | unknown) {
  const error = await (async () => call())().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDsmError(error, 'E_PROOF')) throw new Error(`expected E_PROOF, got ${String(error)}`);
  return error;
}

const prove = (block: RpcBlock = BLOCK_2, receipts: RpcReceipt[] = RECEIPTS_2, address = LOGGER_1) =>
  proveBlockLogs(block, receipts, { address });

describe('headerHash', () => {
  it('recomputes the hash of Prague blocks, empty or not, from their 21 fields', () => {
    for (const block of [GENESIS, BLOCK_1, BLOCK_2]) expect(headerHash(block)).toBe(block.hash);
  });

  it('any changed field changes the hash, so the block no longer proves', async () => {
    const changes: [string, string][] = [
      ['gasUsed', '0x1'],
      ['receiptsRoot', GENESIS.receiptsRoot],
      ['extraData', '0x00'],
      ['timestamp', '0x6b0e864c'],
      ['nonce', '0x0000000000000001'],
      ['baseFeePerGas', '0x1'],
      ['parentBeaconBlockRoot', '0x' + '00'.repeat(32)],
      ['requestsHash', '0x' + '00'.repeat(32)],
    ];
    for (const [field, value] of changes) {
      const block = { ...BLOCK_2, [field]: value };
      expect(headerHash(block)).not.toBe(BLOCK_2.hash);
      expect((await proofError(() => prove(block))).details).toMatchObject({ block: 2, field: 'hash' });
    }
  });

  it('a header without its last hardfork field (a Cancun-shaped header) hashes to something else', () => {
    const { requestsHash: _, ...cancun } = BLOCK_2;
    expect(headerHash(cancun as RpcBlock)).not.toBe(BLOCK_2.hash);
  });

  it('rejects malformed or missing fields and a gap in the hardfork fields, naming the field', async () => {
    const cases: [Partial<Record<string, unknown>>, string][] = [
      [{ miner: '0x' + '00'.repeat(19) }, 'miner'],
      [{ logsBloom: '0x00' }, 'logsBloom'],
      [{ gasUsed: 'a lot' }, 'gasUsed'],
      [{ gasUsed: '0x' }, 'gasUsed'],
      [{ stateRoot: undefined }, 'stateRoot'],
      [{ extraData: '0x123' }, 'extraData'],
      [{ withdrawalsRoot: undefined }, 'withdrawalsRoot'],
      [{ baseFeePerGas: null }, 'baseFeePerGas'],
    ];
    for (const [change, field] of cases) {
      const error = await proofError(() => headerHash({ ...BLOCK_2, ...change } as RpcBlock));
      expect(error.details).toMatchObject({ block: 2, field });
    }
  });
});

describe('proveBlockLogs', () => {
  it('returns the filtered logs with their block-wide logIndex, each with a proof that verifies', async () => {
    const proven = await prove();
    expect(proven).toMatchObject({
      number: 2,
      hash: BLOCK_2.hash,
      parentHash: BLOCK_1.hash,
      receiptsRoot: BLOCK_2.receiptsRoot,
    });
    expect(proven.logs.map((log) => [log.txIndex, log.logIndex, log.topics.length, log.data])).toEqual([
      [1, 0, 2, '0x' + '00'.repeat(31) + '2a'],
      [1, 1, 0, '0x'],
    ]);
    for (const log of proven.logs) {
      expect(log).toMatchObject({ blockNumber: 2, blockHash: BLOCK_2.hash, txHash: BLOCK_2.transactions[1] });
      const logs = await verifyReceiptProof(log.receiptsRoot, log.txIndex, log.proof);
      expect(logs).toContainEqual({ address: log.address, topics: log.topics, data: log.data });
    }
  });

  it('matches the address case-insensitively and topic0 when given', async () => {
    const upper = '0x' + LOGGER_1.slice(2).toUpperCase();
    const byTopic = await proveBlockLogs(BLOCK_2, RECEIPTS_2, {
      address: upper,
      topic0: TOPIC_22.toUpperCase(),
    });
    expect(byTopic.logs.map((log) => [log.logIndex, log.address, log.topics[0]])).toEqual([
      [0, LOGGER_1, TOPIC_22],
    ]);
    const second = await prove(BLOCK_2, RECEIPTS_2, LOGGER_2);
    expect(second.logs.map((log) => [log.txIndex, log.logIndex])).toEqual([
      [4, 2],
      [4, 3],
    ]);
    const none = await prove(BLOCK_2, RECEIPTS_2, '0x' + '00'.repeat(20));
    expect(none.logs).toEqual([]);
  });

  it('refuses a malformed filter (it would match nothing) with E_CONFIG', async () => {
    for (const filter of [
      { address: '' },
      { address: LOGGER_1.slice(0, -2) },
      { address: LOGGER_1, topic0: '0x22' },
    ]) {
      const error = await proveBlockLogs(BLOCK_2, RECEIPTS_2, filter).catch((e: unknown) => e);
      expect(isDsmError(error, 'E_CONFIG')).toBe(true);
    }
  });

  it('proves an empty block (the empty trie root)', async () => {
    expect(await prove(GENESIS, [])).toMatchObject({ number: 0, hash: GENESIS.hash, logs: [] });
  });

  it('a receipt with changed log data, status, cumulativeGasUsed, bloom or type no longer builds receiptsRoot', async () => {
    const changes: ((receipts: RpcReceipt[]) => void)[] = [
      (r) => (r[1]!.logs[0]!.data = '0x' + '00'.repeat(31) + '2b'),
      (r) => (r[1]!.logs[1]!.topics = [TOPIC_22]),
      (r) => (r[4]!.logs[0]!.address = LOGGER_1),
      (r) => (r[3]!.status = '0x1'),
      (r) => (r[0]!.cumulativeGasUsed = '0x5209'),
      (r) => (r[2]!.logsBloom = r[1]!.logsBloom),
      (r) => (r[0]!.type = '0x2'),
      (r) => (r[4]!.type = '0x0'),
      (r) => r[4]!.logs.pop(),
    ];
    for (const change of changes) {
      const receipts = copy(RECEIPTS_2);
      change(receipts);
      expect((await proofError(() => prove(BLOCK_2, receipts))).details).toMatchObject({
        block: 2,
        field: 'receiptsRoot',
      });
    }
  });

  it('rejects a missing, extra or reordered receipt', async () => {
    await proofError(() => prove(BLOCK_2, RECEIPTS_2.slice(0, 4)));
    await proofError(() => prove(BLOCK_2, [...RECEIPTS_2, RECEIPTS_2[0]!]));
    const swapped = [RECEIPTS_2[1]!, RECEIPTS_2[0]!, ...RECEIPTS_2.slice(2)];
    expect((await proofError(() => prove(BLOCK_2, swapped))).details).toMatchObject({
      txIndex: 0,
      field: 'transactionHash',
    });
    // Renumbered so the indexes agree: the hashes still do not.
    const renumbered = copy(swapped).map((receipt, i) => ({ ...receipt, transactionIndex: `0x${i}` }));
    await proofError(() => prove(BLOCK_2, renumbered));
    const misplaced = copy(RECEIPTS_2);
    misplaced[2]!.transactionIndex = '0x3';
    expect((await proofError(() => prove(BLOCK_2, misplaced))).details).toMatchObject({
      field: 'transactionIndex',
    });
  });

  it('rejects a receipt from another block', async () => {
    const receipts = copy(RECEIPTS_2);
    receipts[2]!.blockHash = BLOCK_1.hash;
    expect((await proofError(() => prove(BLOCK_2, receipts))).details).toMatchObject({
      txIndex: 2,
      field: 'blockHash',
    });
    receipts[2]!.blockHash = BLOCK_2.hash;
    receipts[2]!.blockNumber = '0x1';
    expect((await proofError(() => prove(BLOCK_2, receipts))).details).toMatchObject({
      field: 'blockNumber',
    });
    // Block 1's receipts are not block 2's, whatever they say.
    await proofError(() => prove(BLOCK_1, RECEIPTS_2));
  });

  it("rejects a logIndex that is not the log's position in the block", async () => {
    const receipts = copy(RECEIPTS_2);
    receipts[4]!.logs[0]!.logIndex = '0x0';
    expect((await proofError(() => prove(BLOCK_2, receipts))).details).toMatchObject({
      txIndex: 4,
      log: 0,
      field: 'logIndex',
    });
  });

  it('rejects block transactions given as objects', async () => {
    const block = { ...BLOCK_2, transactions: [{ hash: BLOCK_2.transactions[0] }] } as unknown as RpcBlock;
    // The header still hashes right (transactions are not a header field): the shape check catches it.
    expect((await proofError(() => prove(block, RECEIPTS_2.slice(0, 1)))).details).toMatchObject({
      field: 'transactions',
    });
  });
});

describe('verifyReceiptProof', () => {
  const proofOf = async (address: string) => (await prove(BLOCK_2, RECEIPTS_2, address)).logs[0]!;
  const flip = (node: string, at: number) =>
    node.slice(0, at) + (node[at] === '0' ? '1' : '0') + node.slice(at + 1);

  it('accepts the stored proofs and returns the receipt logs', async () => {
    const log = await proofOf(LOGGER_2);
    expect(log.proof.length).toBeGreaterThan(1);
    const logs = await verifyReceiptProof(BLOCK_2.receiptsRoot, 4, log.proof);
    expect(logs.map((l) => l.address)).toEqual([LOGGER_2, LOGGER_2]);
  });

  it('rejects a changed node, a removed node, another index, another root and garbage', async () => {
    const { proof, txIndex } = await proofOf(LOGGER_1);
    for (const [i, node] of proof.entries()) {
      for (const at of [2, Math.floor(node.length / 2), node.length - 1]) {
        const forged = proof.map((n, j) => (j === i ? flip(n, at) : n));
        await proofError(() => verifyReceiptProof(BLOCK_2.receiptsRoot, txIndex, forged));
      }
      await proofError(() =>
        verifyReceiptProof(
          BLOCK_2.receiptsRoot,
          txIndex,
          proof.filter((_, j) => j !== i),
        ),
      );
    }
    for (const other of [0, 2, 3, 4, 5, 200]) {
      const error = await proofError(() => verifyReceiptProof(BLOCK_2.receiptsRoot, other, proof));
      expect(error.details).toMatchObject({ txIndex: other });
    }
    await proofError(() => verifyReceiptProof(BLOCK_1.receiptsRoot, txIndex, proof));
    await proofError(() => verifyReceiptProof(BLOCK_2.receiptsRoot, txIndex, []));
    await proofError(() => verifyReceiptProof(BLOCK_2.receiptsRoot, txIndex, ['0xzz']));
    await proofError(() => verifyReceiptProof(BLOCK_2.receiptsRoot, -1, proof));
    await proofError(() => verifyReceiptProof('0x1234', txIndex, proof));
  });
});

describe('encodeReceipt', () => {
  const log = { address: LOGGER_1, topics: [TOPIC_22], data: '0x2a' };
  const rpcLog = {
    ...log,
    logIndex: '0x0',
    transactionIndex: '0x0',
    transactionHash: '0x',
    blockHash: '0x',
    blockNumber: '0x2',
  };
  const receipt = (fields: Partial<RpcReceipt>): RpcReceipt => ({
    transactionHash: '0x',
    transactionIndex: '0x0',
    blockHash: '0x',
    blockNumber: '0x2',
    status: '0x1',
    cumulativeGasUsed: '0x5208',
    logsBloom: ZERO_BLOOM,
    logs: [rpcLog],
    ...fields,
  });
  // The same receipt encoded by ethers' RLP encoder, an implementation of its own.
  const payload = (status: string) =>
    encodeRlp([status, '0x5208', ZERO_BLOOM, [[log.address, log.topics, log.data]]]);

  it('legacy (type 0 or no type): the RLP list itself', () => {
    expect(hexlify(encodeReceipt(receipt({ type: '0x0' })))).toBe(payload('0x01'));
    expect(hexlify(encodeReceipt(receipt({ type: undefined })))).toBe(payload('0x01'));
    // A failed transaction's status 0 is the empty string.
    expect(hexlify(encodeReceipt(receipt({ type: '0x0', status: '0x0' })))).toBe(payload('0x'));
  });

  it('typed (EIP-2718, e.g. type 2): the type byte, then the RLP list', () => {
    expect(hexlify(encodeReceipt(receipt({ type: '0x2' })))).toBe(concat(['0x02', payload('0x01')]));
    expect(hexlify(encodeReceipt(receipt({ type: '0x1' })))).toBe(concat(['0x01', payload('0x01')]));
  });

  it('pre-Byzantium: the state root in place of the status', () => {
    const root = '0x' + 'ab'.repeat(32);
    expect(hexlify(encodeReceipt(receipt({ status: undefined, root })))).toBe(payload(root));
  });

  it('decodes back to the logs it encoded, legacy and typed', () => {
    for (const type of ['0x0', '0x2'])
      expect(decodeReceiptLogs(encodeReceipt(receipt({ type })))).toEqual([log]);
  });

  it('rejects a status other than 0 or 1, a type outside EIP-2718 and a receipt without status or root', async () => {
    const cases: [Partial<RpcReceipt>, string][] = [
      [{ status: '0x2' }, 'status'],
      [{ type: '0x80' }, 'type'],
      [{ type: '0x100' }, 'type'],
      [{ status: undefined }, 'status'],
      [{ logsBloom: '0x00' }, 'logsBloom'],
      [{ logs: [{ ...rpcLog, address: '0x00' }] }, 'address'],
      [{ logs: [{ ...rpcLog, topics: ['0x00'] }] }, 'topics'],
    ];
    for (const [fields, field] of cases) {
      expect((await proofError(() => encodeReceipt(receipt(fields)))).details).toMatchObject({ field });
    }
  });

  it('decodeReceiptLogs rejects bytes that are not a receipt', async () => {
    for (const bytes of ['0x', '0x80', '0x02', '0x02c0', '0xc0']) {
      await proofError(() => decodeReceiptLogs(new Uint8Array(Buffer.from(bytes.slice(2), 'hex'))));
    }
  });
});
