/**
 * The EVM side as the bridge uses it: the DsmBridge contract through its generated binding, the sender key
 * and the attester keys. Transactions are signed here and returned raw, so the caller can journal them
 * before they are broadcast and send the same bytes again after a crash.
 */
import {
  FetchRequest,
  Interface,
  JsonRpcProvider,
  Transaction,
  Wallet,
  ZeroAddress,
  getAddress,
  type TransactionRequest,
} from 'ethers';
import { DsmError } from '@dsm/protocol';
import { dsmBridgeAbi, dsmBridgeAt, type DsmBridge } from '../generated/dsm-bridge.js';
import { wrappedDsmTokenAt } from '../generated/wrapped-dsm-token.js';

export interface MintRequest {
  /** bytes32 digests of the DSM transfer state id and token id. */
  transfer: string;
  token: string;
  recipient: string;
  amount: bigint;
}

export interface SignedTx {
  raw: string;
  hash: string;
  nonce: number;
}

export interface TxReceipt {
  blockNumber: number;
  blockHash: string;
  status: number;
  gasUsed: bigint;
  gasPrice: bigint;
}

export type Broadcast = 'sent' | 'stale-nonce';

export interface PreparedTx {
  request: TransactionRequest;
  gasLimit: bigint;
}

export type Fees =
  { type: 2; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { type: 0; gasPrice: bigint };

export interface BurnEvent {
  token: string;
  from: string;
  amount: bigint;
  dsmRecipient: string;
  nonce: bigint;
}

const bridgeInterface = new Interface(dsmBridgeAbi);
export const BURN_TOPIC = bridgeInterface.getEvent('BurnToDsm')?.topicHash as string;
const MINTED_TOPIC = bridgeInterface.getEvent('Minted')?.topicHash as string;

/** Gas for one mint or deployment above the node's estimate, as the estimate moves with state. */
const GAS_HEADROOM_PERCENT = 25n;

export class EvmSide {
  readonly provider: JsonRpcProvider;
  readonly contract: DsmBridge;
  readonly sender: Wallet;
  readonly attesters: Wallet[];
  readonly chainId: number;
  private nonce: number | undefined;

  constructor(options: {
    url: string;
    chainId: number;
    contract: string;
    senderKey: string;
    attesterKeys: string[];
    timeoutMs: number;
    /** The contract's deployment block: where searches for its events start. */
    fromBlock: number;
  }) {
    const request = new FetchRequest(options.url);
    request.timeout = options.timeoutMs;
    // A static network: no chain id probing and no silent retries inside ethers; the bridge retries itself.
    this.provider = new JsonRpcProvider(request, options.chainId, {
      staticNetwork: true,
      batchMaxCount: 1,
      cacheTimeout: -1,
    });
    this.contract = dsmBridgeAt(getAddress(options.contract), this.provider);
    this.sender = new Wallet(options.senderKey, this.provider);
    const keys = new Map<string, Wallet>();
    for (const key of [options.senderKey, ...options.attesterKeys]) {
      const wallet = new Wallet(key);
      keys.set(wallet.address, wallet);
    }
    this.attesters = [...keys.values()];
    this.chainId = options.chainId;
    this.fromBlock = options.fromBlock;
  }

  private readonly fromBlock: number;

  get address(): string {
    return this.contract.target as string;
  }

  /** The node's chain id must be the configured one: attestations are bound to it. */
  async checkChain(): Promise<void> {
    const reported = Number(await this.provider.send('eth_chainId', []));
    if (reported !== this.chainId) {
      throw new DsmError(
        'E_CONFIG',
        `the EVM node serves chain ${reported}, not the configured DSM_BRIDGE_CHAIN_ID ${this.chainId}`,
        { key: 'chainId' },
      );
    }
    const code = await this.provider.getCode(this.address);
    if (code === '0x') {
      throw new DsmError(
        'E_CONFIG',
        `no contract at DSM_BRIDGE_CONTRACT ${this.address} on chain ${this.chainId}`,
        {
          key: 'contract',
        },
      );
    }
  }

  async head(): Promise<number> {
    return Number(await this.provider.send('eth_blockNumber', []));
  }

  async block(number: number): Promise<{ number: number; hash: string } | undefined> {
    const block = (await this.provider.send('eth_getBlockByNumber', [`0x${number.toString(16)}`, false])) as {
      hash: string;
    } | null;
    return block ? { number, hash: block.hash } : undefined;
  }

  async signerSet(): Promise<{ signers: string[]; threshold: number }> {
    const [signers, threshold] = await Promise.all([this.contract.signers(), this.contract.threshold()]);
    return { signers: signers.map((s) => getAddress(s)), threshold: Number(threshold) };
  }

  /**
   * Signatures of a mint by this bridge's attesters that are current signers, ordered by address as the
   * contract requires, as many as the threshold. Fewer than that is an error saying how many are missing.
   */
  async attest(mint: MintRequest, set: { signers: string[]; threshold: number }): Promise<string[]> {
    const current = new Set(set.signers);
    const usable = this.attesters
      .filter((w) => current.has(w.address))
      .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1))
      .slice(0, set.threshold);
    if (usable.length < set.threshold) {
      throw new DsmError(
        'E_CONFIG',
        `only ${usable.length} of this bridge's ${this.attesters.length} attester keys are signers of the contract; its threshold is ${set.threshold}`,
        { key: 'attesterKeyFiles' },
      );
    }
    const domain = {
      name: 'DsmBridge',
      version: '1',
      chainId: this.chainId,
      verifyingContract: this.address,
    };
    const types = {
      Mint: [
        { name: 'dsmTransferId', type: 'bytes32' },
        { name: 'dsmTokenId', type: 'bytes32' },
        { name: 'recipient', type: 'address' },
        { name: 'amount', type: 'uint256' },
      ],
    };
    const value = {
      dsmTransferId: mint.transfer,
      dsmTokenId: mint.token,
      recipient: mint.recipient,
      amount: mint.amount,
    };
    return Promise.all(usable.map((wallet) => wallet.signTypedData(domain, types, value)));
  }

  /** A mint transaction with its gas estimated (the node runs it, so a mint that would revert throws here). */
  async prepareMint(mint: MintRequest, signatures: string[]): Promise<PreparedTx> {
    return this.prepare(
      await this.contract.mint.populateTransaction(
        mint.transfer,
        mint.token,
        mint.recipient,
        mint.amount,
        signatures,
      ),
    );
  }

  async prepare(request: TransactionRequest): Promise<PreparedTx> {
    const gas = await this.provider.estimateGas({ ...request, from: this.sender.address });
    return { request, gasLimit: gas + (gas * GAS_HEADROOM_PERCENT) / 100n };
  }

  /** The fee fields of the next transactions (EIP-1559 where the node has a base fee). */
  async fees(): Promise<Fees> {
    const fees = await this.provider.getFeeData();
    return fees.maxFeePerGas !== null
      ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 0n }
      : { type: 0, gasPrice: fees.gasPrice ?? 0n };
  }

  /**
   * Signs prepared transactions with consecutive nonces, in order, locally: the raw bytes to journal before
   * they are broadcast.
   */
  async signAll(prepared: readonly PreparedTx[], fees: Fees): Promise<SignedTx[]> {
    let nonce = await this.nextNonce();
    const signed: SignedTx[] = [];
    for (const { request, gasLimit } of prepared) {
      const raw = await this.sender.signTransaction({
        ...request,
        ...fees,
        chainId: this.chainId,
        nonce,
        gasLimit,
      });
      signed.push({ raw, hash: Transaction.from(raw).hash as string, nonce });
      nonce += 1;
      this.nonce = nonce;
    }
    return signed;
  }

  async sign(request: TransactionRequest): Promise<SignedTx> {
    const [prepared, fees] = await Promise.all([this.prepare(request), this.fees()]);
    return (await this.signAll([prepared], fees))[0] as SignedTx;
  }

  /** Nonces are handed out here in order; a failed broadcast or a restart asks the node again. */
  private async nextNonce(): Promise<number> {
    if (this.nonce === undefined) {
      this.nonce = await this.provider.getTransactionCount(this.sender.address, 'pending');
    }
    return this.nonce;
  }

  /** Forget the nonce count (after a stale nonce or an unknown failure): the node's pending count wins. */
  resetNonce(): void {
    this.nonce = undefined;
  }

  /** Sends raw bytes; a node that already has them is fine. A nonce already used by another tx is reported. */
  async broadcast(raw: string): Promise<Broadcast> {
    try {
      await this.provider.send('eth_sendRawTransaction', [raw]);
      return 'sent';
    } catch (e) {
      const message = (e as Error).message ?? '';
      if (/already known|known transaction|already imported/i.test(message)) return 'sent';
      if (/nonce too low|nonce has already been used|nonce.*expired|replacement/i.test(message)) {
        return 'stale-nonce';
      }
      throw e;
    }
  }

  async receipt(hash: string): Promise<TxReceipt | undefined> {
    const receipt = await this.provider.getTransactionReceipt(hash);
    if (!receipt) return undefined;
    return {
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      status: receipt.status ?? 0,
      gasUsed: receipt.gasUsed,
      gasPrice: receipt.gasPrice,
    };
  }

  /** Whether the node still has the transaction (pending or mined). */
  async knows(hash: string): Promise<boolean> {
    return (await this.provider.getTransaction(hash)) !== null;
  }

  async minted(transfer: string): Promise<boolean> {
    return this.contract.minted(transfer);
  }

  /** The block of the Minted event of a transfer (digest), when the contract has minted it. */
  async mintBlock(transfer: string): Promise<number | undefined> {
    const logs = (await this.provider.send('eth_getLogs', [
      {
        address: this.address,
        topics: [MINTED_TOPIC, transfer],
        fromBlock: `0x${this.fromBlock.toString(16)}`,
        toBlock: 'latest',
      },
    ])) as { blockNumber: string }[];
    const last = logs.at(-1);
    return last ? Number(last.blockNumber) : undefined;
  }

  /** The wrapped token of a DSM token (digest), or undefined when none is deployed. */
  async wrappedToken(token: string): Promise<string | undefined> {
    const address = await this.contract.wrappedToken(token);
    return address === ZeroAddress ? undefined : getAddress(address);
  }

  /** DSM token digest of a wrapped token at a block, or undefined when the bridge did not deploy it. */
  async dsmTokenOf(wrapped: string, blockTag?: number): Promise<string | undefined> {
    const digest = await this.contract.dsmTokenOf(wrapped, blockTag !== undefined ? { blockTag } : {});
    return /^0x0{64}$/.test(digest) ? undefined : digest;
  }

  async totalSupply(wrapped: string, blockTag: number): Promise<bigint> {
    return wrappedDsmTokenAt(wrapped, this.provider).totalSupply({ blockTag });
  }

  async signDeploy(token: string, name: string, symbol: string, decimals: number): Promise<SignedTx> {
    return this.sign(await this.contract.deployToken.populateTransaction(token, name, symbol, decimals));
  }

  /** BurnToDsm logs of the bridge in [from, to], as the node reports them (proven separately). */
  async burnLogs(from: number, to: number): Promise<{ blockNumber: number }[]> {
    const logs = (await this.provider.send('eth_getLogs', [
      {
        address: this.address,
        topics: [BURN_TOPIC],
        fromBlock: `0x${from.toString(16)}`,
        toBlock: `0x${to.toString(16)}`,
      },
    ])) as { blockNumber: string }[];
    return logs.map((log) => ({ blockNumber: Number(log.blockNumber) }));
  }

  /** Decodes a BurnToDsm log proven to be in a receipt. */
  decodeBurn(log: { topics: string[]; data: string }): BurnEvent {
    const parsed = bridgeInterface.parseLog(log);
    if (!parsed || parsed.name !== 'BurnToDsm') {
      throw new DsmError('E_PROOF', 'a proven log of the bridge is not a BurnToDsm event');
    }
    return {
      token: getAddress(parsed.args.getValue('token') as string),
      from: getAddress(parsed.args.getValue('from') as string),
      amount: parsed.args.getValue('amount') as bigint,
      dsmRecipient: parsed.args.getValue('dsmRecipient') as string,
      nonce: parsed.args.getValue('nonce') as bigint,
    };
  }

  destroy(): void {
    this.provider.destroy();
  }
}
