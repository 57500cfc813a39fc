/**
 * DSM → EVM. A transfer to the bridge's identity is received (a DSM state), then, if its memo names this
 * chain and a valid recipient, minted as the wrapped token once the transfer is on `replicationFactor`
 * storage nodes; otherwise sent back to its sender with the reason. Each step is journaled before it acts:
 * the receive and the refund are outstanding DSM states (see dsm-chain.ts), a mint is a raw transaction
 * recorded before it is broadcast, and the contract refuses a second mint of the same transfer anyway.
 */
import type { CoreApi, InboxEntry } from '@dsm/api';
import type { WriteBatch } from '@dsm/runtime';
import { parseId } from '@dsm/protocol';
import { dsmIdDigest } from './dsm-id.js';
import type { Broadcast, EvmSide, MintRequest, PreparedTx, SignedTx } from './evm/evm-side.js';
import type { DepositRecord, Journal, WrappedToken } from './journal.js';
import type { BridgeMetrics } from './metrics.js';
import type { Progress } from './progress.js';
import type { Replication } from './replication.js';
import { isFinal } from './steps/confirmations.js';
import { parseDepositMemo, refundMemo } from './steps/memo.js';
import type { StateRunner } from './state-runner.js';

export interface DepositOptions {
  chainId: number;
  confirmations: number;
  autoDeploy: () => boolean;
}

const now = () => new Date().toISOString();

interface Mint {
  deposit: DepositRecord;
  wrapped: WrappedToken;
  request: MintRequest;
}

/** Mints prepared and sent together: enough to keep the node busy, few enough to bound a pass. */
const MINT_BATCH = 32;

const tx = (record: DepositRecord) => record.mintRaw as string;

function chunks<T>(items: T[], size = MINT_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class Deposits {
  constructor(
    private readonly journal: Journal,
    private readonly core: CoreApi,
    private readonly evm: EvmSide,
    private readonly states: StateRunner,
    private readonly replication: Replication,
    private readonly metrics: BridgeMetrics,
    private readonly progress: Progress,
    private readonly options: DepositOptions,
  ) {}

  /** Receives every new transfer in the bridge's inbox, one DSM state each. */
  async receiveNew(): Promise<number> {
    const identity = this.states.chain.identity;
    const { entries } = await this.core.inbox(identity, true);
    let received = 0;
    for (const entry of entries) {
      if (entry.received || (await this.journal.deposit(entry.transfer))) continue;
      if (!(await this.receive(entry))) break;
      received += 1;
    }
    return received;
  }

  private receive(entry: InboxEntry): Promise<boolean> {
    const memo = parseDepositMemo(entry.memo, this.options.chainId);
    return this.states.run(
      { kind: 'receive', deposit: entry.transfer },
      {
        kind: 'token.receive',
        token: parseId(entry.token),
        amount: entry.amount,
        from: parseId(entry.from),
        transfer: parseId(entry.transfer),
      },
      (batch) => {
        const at = now();
        const record: DepositRecord = {
          seq: this.journal.nextSeq(batch),
          transfer: entry.transfer,
          from: entry.from,
          token: entry.token,
          amount: entry.amount,
          ...(entry.memo !== undefined ? { memo: entry.memo } : {}),
          ...(memo.chainId !== undefined ? { chainId: memo.chainId } : {}),
          ...(memo.ok ? { recipient: memo.recipient } : {}),
          status: 'receiving',
          createdAt: at,
          updatedAt: at,
        };
        this.journal.putDeposit(batch, record, true);
      },
    );
  }

  /**
   * Mints or refunds every received deposit, follows mints until they are final, and closes minted deposits
   * whose mint is in the wrapped supply at `processed` (the invariant's block).
   */
  async advance(head: number, processed: number): Promise<void> {
    const open = await this.journal.openDeposits();
    const received = open.filter((d) => d.status === 'received');
    const minting = open.filter((d) => d.status === 'minting');
    const refunding = this.states.chain.outstanding ? [] : open.filter((d) => d.status === 'refunding');
    for (const deposit of refunding) if (!(await this.refund(deposit, deposit.refundReason ?? ''))) return;
    for (const chunk of chunks(minting)) await Promise.all(chunk.map((d) => this.follow(d, head)));
    const closing = open.filter(
      (d) => d.status === 'minted' && d.mintBlock !== undefined && d.mintBlock <= processed,
    );
    if (closing.length > 0) {
      const batch = this.journal.batch();
      for (const deposit of closing) this.journal.putDeposit(batch, { ...deposit, closed: true });
      await this.journal.writeLazily(batch);
    }
    if (received.length === 0) return;
    const mints: Mint[] = [];
    for (const deposit of received) {
      const memo = parseDepositMemo(deposit.memo, this.options.chainId);
      if (!memo.ok) {
        if (!(await this.refund(deposit, memo.reason))) return;
        continue;
      }
      const wrapped = await this.wrappedFor(deposit);
      if (typeof wrapped === 'string') {
        if (!(await this.refund(deposit, wrapped))) return;
        continue;
      }
      mints.push({
        deposit,
        wrapped,
        request: {
          transfer: dsmIdDigest(parseId(deposit.transfer).bytes),
          token: dsmIdDigest(parseId(deposit.token).bytes),
          recipient: memo.recipient,
          amount: BigInt(deposit.amount),
        },
      });
    }
    if (mints.length === 0) return;
    const set = await this.evm.signerSet();
    for (const chunk of chunks(mints)) await this.mintAll(chunk, set);
  }

  /**
   * One batch of mints: replication checked and gas estimated concurrently, then signed with consecutive
   * nonces, journaled in one durable write, and broadcast concurrently.
   */
  private async mintAll(mints: Mint[], set: { signers: string[]; threshold: number }): Promise<void> {
    const prepared = await Promise.all(mints.map((mint) => this.prepare(mint, set)));
    const ready = mints.flatMap((mint, i) => {
      const tx = prepared[i];
      return tx ? [{ ...mint, tx }] : [];
    });
    if (ready.length === 0) return;
    const signed = await this.evm.signAll(
      ready.map((r) => r.tx),
      await this.evm.fees(),
    );
    const batch = this.journal.batch();
    const at = now();
    const sending = ready.map(({ deposit, wrapped }, i) => {
      const tx = signed[i] as SignedTx;
      const { lastError: _cleared, ...rest } = deposit;
      const record: DepositRecord = {
        ...rest,
        status: 'minting',
        wrapped: wrapped.wrapped,
        mintTx: tx.hash,
        mintRaw: tx.raw,
        mintNonce: tx.nonce,
        updatedAt: at,
      };
      this.journal.putDeposit(batch, record);
      return record;
    });
    await this.journal.write(batch);
    this.progress.mark();
    await Promise.all(sending.map((record) => this.send(record, tx(record))));
  }

  /** Checks and estimates one mint; undefined when it cannot be sent now (the reason noted or settled). */
  private async prepare(
    mint: Mint,
    set: { signers: string[]; threshold: number },
  ): Promise<PreparedTx | undefined> {
    const { deposit, request, wrapped } = mint;
    const holders = await this.replication.holders(deposit.transfer);
    if (holders < this.replication.required) {
      await this.note(
        deposit,
        `the transfer is on ${holders} of the ${this.replication.required} storage nodes required`,
      );
      return undefined;
    }
    try {
      return await this.evm.prepareMint(request, await this.evm.attest(request, set));
    } catch (e) {
      // The node's gas estimate runs the mint: already minted (a journal restored from an old backup, or
      // another bridge instance), paused, a signer set that changed. Only the first is settled here.
      if (await this.evm.minted(request.transfer)) {
        const mintBlock = await this.evm.mintBlock(request.transfer);
        await this.update(deposit, {
          status: 'minting',
          wrapped: wrapped.wrapped,
          ...(mintBlock !== undefined ? { mintBlock } : {}),
        });
        return undefined;
      }
      await this.note(deposit, `mint not possible yet: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * After a deep reorganisation (an operator resuming): a deposit counted as minted whose mint the new chain
   * does not have is minted again (the contract's record is the new chain's).
   */
  async remintLost(batch: WriteBatch, after: number): Promise<number> {
    let lost = 0;
    for await (const deposit of this.journal.deposits()) {
      if (deposit.status !== 'minted' || (deposit.mintBlock ?? 0) <= after) continue;
      if (await this.evm.minted(dsmIdDigest(parseId(deposit.transfer).bytes))) continue;
      const {
        mintTx: _tx,
        mintRaw: _raw,
        mintNonce: _nonce,
        mintBlock: _block,
        closed: _closed,
        ...rest
      } = deposit;
      this.journal.putDeposit(batch, { ...rest, status: 'received', updatedAt: now() });
      lost += 1;
    }
    return lost;
  }

  /** The deposit's wrapped token, deploying it when allowed; a string is why it cannot be served. */
  private async wrappedFor(deposit: DepositRecord): Promise<WrappedToken | string> {
    const known = await this.journal.token(deposit.token);
    if (known) return known;
    const digest = dsmIdDigest(parseId(deposit.token).bytes);
    const definition = await this.core.token(deposit.token);
    const existing = await this.evm.wrappedToken(digest);
    if (!existing && !this.options.autoDeploy()) {
      return `no wrapped token for ${definition.symbol} on chain ${this.options.chainId} and auto-deploy is off`;
    }
    const wrapped = existing ?? (await this.deploy(digest, definition));
    const token: WrappedToken = {
      token: deposit.token,
      wrapped,
      symbol: definition.symbol,
      name: definition.name,
      decimals: definition.decimals,
    };
    const batch = this.journal.batch();
    this.journal.putToken(batch, token);
    await this.journal.write(batch);
    return token;
  }

  /** Deploys a wrapped token and waits for it (deployments are rare and idempotent on chain). */
  async deploy(
    digest: string,
    definition: { name: string; symbol: string; decimals: number },
  ): Promise<string> {
    const tx = await this.evm.signDeploy(digest, definition.name, definition.symbol, definition.decimals);
    await this.evm.broadcast(tx.raw);
    const receipt = await this.evm.provider.waitForTransaction(tx.hash, 1, 60_000);
    if (receipt) this.metrics.gasSpent.inc(Number(receipt.gasUsed * receipt.gasPrice));
    const wrapped = await this.evm.wrappedToken(digest);
    if (!wrapped) throw new Error(`deploying the wrapped token of ${digest} failed (tx ${tx.hash})`);
    return wrapped;
  }

  /** Broadcasts a journaled mint; undefined when it failed (noted, sent again at the next pass). */
  private async send(deposit: DepositRecord, raw: string): Promise<Broadcast | undefined> {
    try {
      const sent = await this.evm.broadcast(raw);
      if (sent === 'stale-nonce') this.evm.resetNonce();
      return sent;
    } catch (e) {
      this.evm.resetNonce();
      await this.note(deposit, `broadcast failed, will retry: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** A mint in flight: final once its block has enough confirmations; sent again if the node lost it. */
  private async follow(deposit: DepositRecord, head: number): Promise<void> {
    const transfer = dsmIdDigest(parseId(deposit.transfer).bytes);
    const receipt = deposit.mintTx ? await this.evm.receipt(deposit.mintTx) : undefined;
    if (receipt?.status === 1) {
      const final = isFinal(receipt.blockNumber, head, this.options.confirmations);
      if (final || deposit.mintBlock !== receipt.blockNumber) {
        await this.update(deposit, {
          mintBlock: receipt.blockNumber,
          ...(final
            ? {
                status: 'minted',
                gasCost: (receipt.gasUsed * receipt.gasPrice).toString(),
                mintRaw: undefined,
              }
            : {}),
        });
        if (final) {
          this.progress.mark();
          this.metrics.deposits.inc({ result: 'minted' });
          this.metrics.gasSpent.inc(Number(receipt.gasUsed * receipt.gasPrice));
          this.metrics.depositSeconds.observe((Date.now() - Date.parse(deposit.createdAt)) / 1000);
        }
      }
      return;
    }
    // Not mined (yet, or no longer after a reorg), reverted, or minted by another transaction.
    if (await this.evm.minted(transfer)) {
      const mintBlock = await this.evm.mintBlock(transfer);
      if (mintBlock !== undefined && mintBlock !== deposit.mintBlock)
        await this.update(deposit, { mintBlock });
      if (mintBlock !== undefined && isFinal(mintBlock, head, this.options.confirmations)) {
        await this.update(deposit, { status: 'minted', mintRaw: undefined });
        this.metrics.deposits.inc({ result: 'minted' });
      }
      return;
    }
    if (deposit.mintBlock !== undefined) await this.update(deposit, { mintBlock: undefined });
    if (receipt?.status === 0 || !deposit.mintRaw || !deposit.mintTx) {
      // Reverted, or the journal has no transaction: sign a new one at the next pass.
      await this.update(deposit, { status: 'received', mintTx: undefined, mintRaw: undefined });
      return;
    }
    if (
      !(await this.evm.knows(deposit.mintTx)) &&
      (await this.send(deposit, deposit.mintRaw)) === 'stale-nonce'
    ) {
      // Neither mined nor known, and its nonce is used: another transaction of ours took it (this one's
      // broadcast was lost, and the next mint was signed with the node's count). These bytes can never be
      // mined: sign a new mint at the next pass (the contract refuses a second mint of a transfer anyway).
      await this.update(deposit, {
        status: 'received',
        mintTx: undefined,
        mintRaw: undefined,
        mintNonce: undefined,
        lastError: `mint ${deposit.mintTx} lost its nonce ${deposit.mintNonce} to another transaction: signing it again`,
      });
    }
  }

  /** Sends the deposit back to its sender (a DSM state); false when the DSM side is not answering. */
  private refund(deposit: DepositRecord, reason: string): Promise<boolean> {
    return this.states.run(
      { kind: 'refund', deposit: deposit.transfer },
      {
        kind: 'token.transfer',
        token: parseId(deposit.token),
        amount: deposit.amount,
        to: parseId(deposit.from),
        memo: refundMemo(reason),
      },
      (batch) => {
        this.journal.putDeposit(batch, {
          ...deposit,
          status: 'refunding',
          refundReason: reason,
          updatedAt: now(),
        });
      },
    );
  }

  private async update(deposit: DepositRecord, changes: Partial<DepositRecord>): Promise<void> {
    Object.assign(deposit, changes, { updatedAt: now() });
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) delete (deposit as unknown as Record<string, unknown>)[field];
    }
    if (changes.lastError === undefined) delete deposit.lastError;
    const batch = this.journal.batch();
    this.journal.putDeposit(batch, deposit);
    await this.journal.write(batch);
  }

  private async note(deposit: DepositRecord, error: string): Promise<void> {
    if (deposit.lastError === error) return;
    await this.update(deposit, { lastError: error });
  }
}
