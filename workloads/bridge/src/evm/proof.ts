// Proving EVM events (issue 9, EVM → DSM): a block header is hashed again from its fields, the block's receipts
// trie is rebuilt from every receipt and its root checked against the header, and each receipt carrying a
// wanted log gets a Merkle-Patricia proof against that root. Nothing the RPC says is taken on its word: the
// logs handed out are decoded from the bytes that were hashed into the trie.
import { DsmError } from '@dsm/protocol';
import type { ErrorDetails } from '@dsm/protocol';
import { createMPT, createMerkleProof, verifyMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import type { NestedUint8Array } from '@ethereumjs/rlp';
import { concat, getBytes, hexlify, keccak256, toBeArray, toQuantity } from 'ethers';

/** The JSON-RPC surface needed (an ethers JsonRpcProvider's `send` satisfies it). */
export interface EvmRpc {
  send(method: string, params: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A block as `eth_getBlockByNumber(n, false)` returns it: header fields as hex strings, transaction hashes. */
export interface RpcBlock {
  number: string;
  hash: string;
  parentHash: string;
  receiptsRoot: string;
  transactions: string[];
  [field: string]: unknown;
}

export interface RpcReceipt {
  transactionHash: string;
  transactionIndex: string;
  blockHash: string;
  blockNumber: string;
  /** Byzantium and later. */
  status?: string;
  /** Before Byzantium: the post-transaction state root. */
  root?: string;
  /** EIP-2718 type; absent on nodes older than Berlin (legacy). */
  type?: string;
  cumulativeGasUsed: string;
  logsBloom: string;
  logs: RpcLog[];
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  logIndex: string;
  transactionIndex: string;
  transactionHash: string;
  blockHash: string;
  blockNumber: string;
}

/** A log proven to be in a block: its receipt's proof against receiptsRoot (RLP nodes as 0x-hex). */
export interface ProvenLog {
  blockNumber: number;
  blockHash: string;
  receiptsRoot: string;
  txHash: string;
  txIndex: number;
  /** Position of the log in the block, across receipts. */
  logIndex: number;
  address: string;
  topics: string[];
  data: string;
  proof: string[];
}

export interface ProvenBlock {
  number: number;
  hash: string;
  parentHash: string;
  receiptsRoot: string;
  logs: ProvenLog[];
}

export interface LogFilter {
  address: string;
  topic0?: string;
}

/** A log as a receipt encodes it. Byte fields are lowercase 0x-hex. */
export interface ReceiptLog {
  address: string;
  topics: string[];
  data: string;
}

type Where = ErrorDetails;

function fail(message: string, details: Where): never {
  throw new DsmError('E_PROOF', message, details);
}

// ---- hex fields --------------------------------------------------------------------------------------------

const QUANTITY = /^0x[0-9a-f]+$/i;
const DATA = /^0x(?:[0-9a-f]{2})*$/i;

function bigQuantity(value: unknown, where: Where): bigint {
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    return fail(`${String(where.field)} must be a hex quantity (0x…), got ${JSON.stringify(value)}.`, where);
  }
  return BigInt(value);
}

/** A JSON-RPC quantity as the minimal big-endian bytes RLP wants (zero is the empty string). */
const quantity = (value: unknown, where: Where): Uint8Array => toBeArray(bigQuantity(value, where));

/** A JSON-RPC quantity that must fit a JS number (block numbers, indexes). */
function smallQuantity(value: unknown, where: Where): number {
  const n = bigQuantity(value, where);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    return fail(`${String(where.field)} ${String(value)} is too large for an index.`, where);
  }
  return Number(n);
}

/** JSON-RPC data of `length` bytes (any length when omitted). */
function data(value: unknown, where: Where, length?: number): Uint8Array {
  if (typeof value !== 'string' || !DATA.test(value)) {
    return fail(`${String(where.field)} must be 0x-hex bytes, got ${JSON.stringify(value)}.`, where);
  }
  const bytes = getBytes(value);
  if (length !== undefined && bytes.length !== length) {
    return fail(`${String(where.field)} must be ${length} bytes, got ${bytes.length}.`, where);
  }
  return bytes;
}

const lower = (hex: string) => hex.toLowerCase();

/** The block's number for error details: a number when readable, else what the RPC sent. */
function blockLabel(block: { number?: unknown }): number | string {
  const n = block.number;
  return typeof n === 'string' && QUANTITY.test(n) ? Number(BigInt(n)) : String(n);
}

// ---- header ------------------------------------------------------------------------------------------------

type Kind = 'hash' | 'address' | 'bloom' | 'nonce' | 'bytes' | 'quantity';

const LENGTHS: Partial<Record<Kind, number>> = { hash: 32, address: 20, bloom: 256, nonce: 8 };

/** The 15 header fields every block has, in RLP order. */
const LEGACY_HEADER: readonly (readonly [string, Kind])[] = [
  ['parentHash', 'hash'],
  ['sha3Uncles', 'hash'],
  ['miner', 'address'],
  ['stateRoot', 'hash'],
  ['transactionsRoot', 'hash'],
  ['receiptsRoot', 'hash'],
  ['logsBloom', 'bloom'],
  ['difficulty', 'quantity'],
  ['number', 'quantity'],
  ['gasLimit', 'quantity'],
  ['gasUsed', 'quantity'],
  ['timestamp', 'quantity'],
  ['extraData', 'bytes'],
  ['mixHash', 'hash'],
  ['nonce', 'nonce'],
];

/** Fields later hardforks append, in order: London, Shanghai, Cancun (three), Prague. */
const TRAILING_HEADER: readonly (readonly [string, Kind])[] = [
  ['baseFeePerGas', 'quantity'],
  ['withdrawalsRoot', 'hash'],
  ['blobGasUsed', 'quantity'],
  ['excessBlobGas', 'quantity'],
  ['parentBeaconBlockRoot', 'hash'],
  ['requestsHash', 'hash'],
];

function headerField(block: RpcBlock, field: string, kind: Kind): Uint8Array {
  const where = { block: blockLabel(block), field };
  return kind === 'quantity' ? quantity(block[field], where) : data(block[field], where, LENGTHS[kind]);
}

/** The header fields of the block's hardfork. A hardfork's fields come in order: a gap is a malformed block. */
function headerFields(block: RpcBlock): Uint8Array[] {
  const present = TRAILING_HEADER.filter(([field]) => block[field] !== undefined && block[field] !== null);
  const expected = TRAILING_HEADER.slice(0, present.length);
  const gap = expected.find(([field], i) => present[i]?.[0] !== field);
  if (gap) {
    fail(`Block header has ${present.at(-1)?.[0]} but not ${gap[0]}, which comes before it.`, {
      block: blockLabel(block),
      field: gap[0],
    });
  }
  return [...LEGACY_HEADER, ...present].map(([field, kind]) => headerField(block, field, kind));
}

/** keccak256(rlp(header fields)) as 0x-hex, lowercase. Throws DsmError('E_PROOF') if a field is malformed. */
export function headerHash(block: RpcBlock): string {
  return keccak256(RLP.encode(headerFields(block)));
}

// ---- receipts ----------------------------------------------------------------------------------------------

function encodeLog(log: RpcLog, where: Where): [Uint8Array, Uint8Array[], Uint8Array] {
  if (typeof log !== 'object' || log === null || !Array.isArray(log.topics)) {
    return fail('A receipt log must have an address, a topics array and data.', { ...where, field: 'logs' });
  }
  return [
    data(log.address, { ...where, field: 'address' }, 20),
    log.topics.map((topic) => data(topic, { ...where, field: 'topics' }, 32)),
    data(log.data, { ...where, field: 'data' }),
  ];
}

/** Post-Byzantium status (0 or 1, as an integer) or the pre-Byzantium state root. */
function statusOrRoot(receipt: RpcReceipt, where: Where): Uint8Array {
  if (receipt.status !== undefined && receipt.status !== null) {
    const status = quantity(receipt.status, { ...where, field: 'status' });
    if (status.length > 1 || (status[0] ?? 0) > 1) {
      fail(`A receipt status is 0x0 or 0x1, got ${receipt.status}.`, { ...where, field: 'status' });
    }
    return status;
  }
  if (receipt.root !== undefined && receipt.root !== null)
    return data(receipt.root, { ...where, field: 'root' }, 32);
  return fail('A receipt has neither a status nor a state root.', { ...where, field: 'status' });
}

/** The EIP-2718 type: 0 for legacy (or absent, before Berlin), 1..0x7f for typed receipts. */
function receiptType(receipt: RpcReceipt, where: Where): number {
  if (receipt.type === undefined || receipt.type === null) return 0;
  const type = quantity(receipt.type, { ...where, field: 'type' });
  if (type.length > 1 || (type[0] ?? 0) > 0x7f) {
    fail(`Receipt type ${receipt.type} is not an EIP-2718 type (0x0..0x7f).`, { ...where, field: 'type' });
  }
  return type[0] ?? 0;
}

/**
 * The receipt as the receipts trie holds it (EIP-2718): rlp([status | root, cumulativeGasUsed, logsBloom,
 * logs]), a typed receipt prefixed by its type byte.
 */
export function encodeReceipt(receipt: RpcReceipt, where: Where = {}): Uint8Array {
  if (!Array.isArray(receipt.logs))
    return fail('A receipt must have a logs array.', { ...where, field: 'logs' });
  const payload = RLP.encode([
    statusOrRoot(receipt, where),
    quantity(receipt.cumulativeGasUsed, { ...where, field: 'cumulativeGasUsed' }),
    data(receipt.logsBloom, { ...where, field: 'logsBloom' }, 256),
    receipt.logs.map((log, i) => encodeLog(log, { ...where, log: i })),
  ]);
  const type = receiptType(receipt, where);
  return type === 0 ? payload : getBytes(concat([new Uint8Array([type]), payload]));
}

const isBytes = (item: unknown): item is Uint8Array => item instanceof Uint8Array;
const isList = (item: unknown): item is NestedUint8Array => Array.isArray(item);

function decodeLog(item: Uint8Array | NestedUint8Array, where: Where): ReceiptLog {
  const [address, topics, logData] = isList(item) && item.length === 3 ? item : [];
  if (!isBytes(address) || address.length !== 20 || !isList(topics) || !isBytes(logData)) {
    return fail('A proven receipt holds a malformed log.', where);
  }
  if (!topics.every((topic) => isBytes(topic) && topic.length === 32)) {
    return fail('A proven receipt holds a log topic that is not 32 bytes.', where);
  }
  return {
    address: hexlify(address),
    topics: topics.map((topic) => hexlify(topic as Uint8Array)),
    data: hexlify(logData),
  };
}

/** The logs of a receipt as the trie holds it (legacy or typed). */
export function decodeReceiptLogs(encoded: Uint8Array, where: Where = {}): ReceiptLog[] {
  const first = encoded[0] ?? 0xff;
  // A legacy receipt is an RLP list (first byte ≥ 0xc0); a typed one starts with its type byte (≤ 0x7f).
  const payload = first >= 0xc0 ? encoded : first <= 0x7f ? encoded.subarray(1) : undefined;
  let fields: Uint8Array | NestedUint8Array | undefined;
  try {
    fields = payload && RLP.decode(payload);
  } catch {
    fields = undefined;
  }
  const logs = isList(fields) && fields.length === 4 ? fields[3] : undefined;
  if (!isList(logs)) return fail('The proven value is not an encoded receipt.', where);
  return logs.map((log, i) => decodeLog(log, { ...where, log: i }));
}

// ---- trie and proofs ---------------------------------------------------------------------------------------

const trieKey = (txIndex: number) => RLP.encode(txIndex);

async function receiptsTrie(encoded: Uint8Array[]) {
  const trie = await createMPT();
  for (const [i, value] of encoded.entries()) await trie.put(trieKey(i), value);
  return trie;
}

/** The receipt at `txIndex` that `proof` leads to from `root`, or E_PROOF. */
async function provenValue(
  root: string,
  txIndex: number,
  proof: Uint8Array[],
  where: Where,
): Promise<Uint8Array> {
  let value: Uint8Array | null;
  try {
    value = await verifyMerkleProof(trieKey(txIndex), proof, {
      root: data(root, { ...where, field: 'receiptsRoot' }, 32),
    });
  } catch (error) {
    if (error instanceof DsmError) throw error;
    value = null;
  }
  if (value === null) {
    return fail(`The proof does not lead from receiptsRoot ${root} to a receipt at index ${txIndex}.`, where);
  }
  return value;
}

function proofNodes(proof: unknown, where: Where): Uint8Array[] {
  if (!Array.isArray(proof))
    return fail('A receipt proof is a list of 0x-hex trie nodes.', { ...where, field: 'proof' });
  return proof.map((node: unknown) => data(node, { ...where, field: 'proof' }));
}

/**
 * Verifies a stored proof again (audits, the lookup API): returns the decoded logs of the proven receipt;
 * E_PROOF when the proof does not lead from receiptsRoot to a receipt at txIndex.
 */
export async function verifyReceiptProof(
  receiptsRoot: string,
  txIndex: number,
  proof: string[],
): Promise<ReceiptLog[]> {
  const where = { receiptsRoot, txIndex };
  if (!Number.isSafeInteger(txIndex) || txIndex < 0)
    return fail(`Transaction index ${txIndex} is not an index.`, where);
  return decodeReceiptLogs(await provenValue(receiptsRoot, txIndex, proofNodes(proof, where), where), where);
}

// ---- a block's evidence ------------------------------------------------------------------------------------

/** The receipts belong to the block's transactions: same count, hashes, order and block. */
function checkReceiptsMatch(block: RpcBlock, receipts: RpcReceipt[]): void {
  const label = blockLabel(block);
  const transactions: unknown = block.transactions;
  if (!Array.isArray(transactions) || !transactions.every((tx) => typeof tx === 'string')) {
    const where = { block: label, field: 'transactions' };
    fail('The block must list its transactions as hashes (eth_getBlockByNumber with false).', where);
  }
  const count = Array.isArray(receipts) ? receipts.length : 'no';
  if (count !== transactions.length) {
    const where = { block: label, field: 'receipts' };
    fail(`Block ${label} has ${transactions.length} transactions but ${count} receipts were given.`, where);
  }
  receipts.forEach((receipt, i) => checkReceipt(block, receipt, i));
}

/** Receipt `i` is the receipt of the block's transaction `i`. */
function checkReceipt(block: RpcBlock, receipt: RpcReceipt, i: number): void {
  const label = blockLabel(block);
  const at = (field: string) => ({ block: label, txIndex: i, field });
  if (typeof receipt !== 'object' || receipt === null) {
    fail(
      `The node gave no receipt for transaction ${i} of block ${label}: fetch the block again.`,
      at('receipts'),
    );
  }
  const expected = lower(block.transactions[i]!);
  if (lower(String(receipt.transactionHash)) !== expected) {
    const message = `Receipt ${i} is for transaction ${receipt.transactionHash}, but the block's transaction ${i} is ${expected}.`;
    fail(message, at('transactionHash'));
  }
  if (smallQuantity(receipt.transactionIndex, at('transactionIndex')) !== i) {
    fail(`Receipt ${i} says it is at index ${receipt.transactionIndex}.`, at('transactionIndex'));
  }
  if (lower(String(receipt.blockHash)) !== lower(block.hash)) {
    fail(`Receipt ${i} is from block ${receipt.blockHash}, not ${block.hash}.`, at('blockHash'));
  }
  if (smallQuantity(receipt.blockNumber, at('blockNumber')) !== label) {
    fail(`Receipt ${i} is from block number ${receipt.blockNumber}, not ${label}.`, at('blockNumber'));
  }
}

/** The RPC's logIndex of every log agrees with the log's position in the block. */
function checkLogIndexes(block: RpcBlock, receipts: RpcReceipt[]): void {
  let next = 0;
  receipts.forEach((receipt, txIndex) =>
    receipt.logs.forEach((log, i) => {
      const where = { block: blockLabel(block), txIndex, log: i, field: 'logIndex' };
      if (smallQuantity(log.logIndex, where) !== next) {
        fail(
          `Log ${i} of receipt ${txIndex} has logIndex ${log.logIndex}, but it is log ${next} of the block.`,
          where,
        );
      }
      next += 1;
    }),
  );
}

/** A malformed filter would silently match nothing, so it is refused. */
function checkFilter(filter: LogFilter): void {
  const bad = !/^0x[0-9a-f]{40}$/i.test(filter.address)
    ? 'address'
    : filter.topic0 !== undefined && !/^0x[0-9a-f]{64}$/i.test(filter.topic0)
      ? 'topic0'
      : undefined;
  if (bad) {
    const message = `The log filter's ${bad} must be 0x-hex of ${bad === 'address' ? 20 : 32} bytes.`;
    throw new DsmError('E_CONFIG', message, { field: bad, value: filter[bad] });
  }
}

const matches = (log: ReceiptLog, filter: LogFilter) =>
  log.address === lower(filter.address) &&
  (filter.topic0 === undefined || log.topics[0] === lower(filter.topic0));

/**
 * Pure: checks header hash == block.hash, receipts ↔ block.transactions (same count, hashes, order and block),
 * trie root == receiptsRoot and every logIndex, then returns the logs matching `filter` (address
 * case-insensitive, topic0), each with its receipt's proof, verified. Hex in the result is lowercase. The
 * transaction hashes are the block's list as the RPC gave it: the header commits to them only through
 * transactionsRoot, which is not rebuilt here.
 */
export async function proveBlockLogs(
  block: RpcBlock,
  receipts: RpcReceipt[],
  filter: LogFilter,
): Promise<ProvenBlock> {
  checkFilter(filter);
  const label = smallQuantity(block.number, { block: blockLabel(block), field: 'number' });
  const hash = hexlify(data(block.hash, { block: label, field: 'hash' }, 32));
  const computed = headerHash(block);
  if (computed !== hash) {
    const where = { block: label, field: 'hash' };
    fail(
      `Block ${label}'s header fields hash to ${computed}, not to its hash ${hash}: the EVM node's header is not to be trusted, or its hardfork adds header fields this bridge does not know.`,
      where,
    );
  }
  checkReceiptsMatch(block, receipts);
  const encoded = receipts.map((receipt, txIndex) => encodeReceipt(receipt, { block: label, txIndex }));
  const trie = await receiptsTrie(encoded);
  const root = hexlify(trie.root());
  const receiptsRoot = lower(block.receiptsRoot);
  if (root !== receiptsRoot) {
    const message = `Block ${label}'s receipts build a trie with root ${root}, not the header's receiptsRoot ${receiptsRoot}: the EVM node's receipts are not the block's.`;
    fail(message, { block: label, field: 'receiptsRoot' });
  }
  checkLogIndexes(block, receipts);

  const logs: ProvenLog[] = [];
  let logIndex = 0;
  for (const [txIndex, value] of encoded.entries()) {
    const where = { block: label, txIndex };
    const receiptLogs = decodeReceiptLogs(value, where);
    const wanted = receiptLogs.some((log) => matches(log, filter));
    if (wanted) {
      const proof = await createMerkleProof(trie, trieKey(txIndex));
      const proven = decodeReceiptLogs(await provenValue(receiptsRoot, txIndex, proof, where), where);
      const hexProof = proof.map((node) => hexlify(node));
      proven.forEach((log, i) => {
        if (matches(log, filter)) {
          logs.push({
            blockNumber: label,
            blockHash: hash,
            receiptsRoot,
            txHash: lower(block.transactions[txIndex]!),
            txIndex,
            logIndex: logIndex + i,
            ...log,
            proof: hexProof,
          });
        }
      });
    }
    logIndex += receiptLogs.length;
  }
  return { number: label, hash, parentHash: lower(block.parentHash), receiptsRoot, logs };
}

// ---- fetching ----------------------------------------------------------------------------------------------

/**
 * Every receipt of the block, in order: eth_getBlockReceipts where the node has it (hardhat has not), else
 * one eth_getTransactionReceipt per transaction.
 */
async function blockReceipts(rpc: EvmRpc, block: RpcBlock): Promise<RpcReceipt[]> {
  try {
    // By hash, so a reorganisation between the two calls cannot hand over another block's receipts.
    const receipts: unknown = await rpc.send('eth_getBlockReceipts', [block.hash]);
    if (Array.isArray(receipts)) return receipts as RpcReceipt[];
  } catch {
    // Not implemented by this node: ask per transaction.
  }
  const transactions = Array.isArray(block.transactions) ? block.transactions : [];
  return Promise.all(
    transactions.map((tx) => rpc.send('eth_getTransactionReceipt', [tx]) as Promise<RpcReceipt>),
  );
}

/** Fetches block `number` (eth_getBlockByNumber, false) and its receipts, then proveBlockLogs. */
export async function fetchProvenBlock(rpc: EvmRpc, number: number, filter: LogFilter): Promise<ProvenBlock> {
  const block = (await rpc.send('eth_getBlockByNumber', [toQuantity(number), false])) as RpcBlock | null;
  if (block === null || typeof block !== 'object') {
    throw new DsmError('E_UNAVAILABLE', `The EVM node has no block ${number} (yet): ask again later.`, {
      block: number,
    });
  }
  if (blockLabel(block) !== number) {
    fail(`Asked the EVM node for block ${number}, it answered with block ${String(block.number)}.`, {
      block: number,
      field: 'number',
    });
  }
  return proveBlockLogs(block, await blockReceipts(rpc, block), filter);
}
