/**
 * EVM → DSM. Final blocks (at least `confirmations` deep) are scanned in order for BurnToDsm events of the
 * bridge; a block with events is proven (header hash recomputed, receipts trie rebuilt against
 * `receiptsRoot`, a Merkle-Patricia proof per receipt) before its withdrawals are recorded, in the same
 * batch as the cursor moving past it. Each recorded withdrawal is then released: a transfer from the bridge's
 * identity with memo `evm:<chainId>:<txHash>:<logIndex>`. Before any of this the cursor block's hash is
 * checked: if it changed, the chain was reorganised deeper than the confirmation depth, and the bridge halts.
 */
import { DsmError, idFromBytes, parseId } from '@dsm/protocol';
import type { WriteBatch } from '@dsm/runtime';
import { getBytes } from 'ethers';
import { dsmIdFromDigest } from './dsm-id.js';
import { BURN_TOPIC, type EvmSide } from './evm/evm-side.js';
import { fetchProvenBlock, type ProvenLog } from './evm/proof.js';
import type { Halt, Journal, ScanCursor, WithdrawalRecord } from './journal.js';
import type { BridgeMetrics } from './metrics.js';
import { nextScanRange } from './steps/confirmations.js';
import { releaseMemo } from './steps/memo.js';
import { sameBurn } from './steps/same-burn.js';
import type { StateRunner } from './state-runner.js';

export interface WithdrawalOptions {
  chainId: number;
  confirmations: number;
  fromBlock: number;
  logBlockRange: number;
}

const now = () => new Date().toISOString();

export class Withdrawals {
  constructor(
    private readonly journal: Journal,
    private readonly evm: EvmSide,
    private readonly states: StateRunner,
    private readonly metrics: BridgeMetrics,
    private readonly options: WithdrawalOptions,
  ) {}

  /** The last processed block (the cursor), or fromBlock − 1 before the first. */
  async processed(): Promise<number> {
    return (await this.journal.cursor())?.number ?? this.options.fromBlock - 1;
  }

  /**
   * Checks that processed blocks are still canonical, then records the burns of newly final blocks.
   * Returns a halt when the cursor block's hash changed.
   */
  async scan(head: number): Promise<Halt | undefined> {
    const cursor = await this.journal.cursor();
    if (cursor) {
      const current = await this.evm.block(cursor.number);
      if (current?.hash !== cursor.hash) {
        return {
          reason:
            `block ${cursor.number} changed from ${cursor.hash} to ${current?.hash ?? 'nothing'}: ` +
            `a reorganisation deeper than the ${this.options.confirmations} confirmations the bridge waits for`,
          block: cursor.number,
          at: now(),
        };
      }
    }
    for (;;) {
      const range = nextScanRange(
        await this.processed(),
        head,
        this.options.confirmations,
        this.options.logBlockRange,
      );
      if (!range) return undefined;
      const blocks = [...new Set((await this.evm.burnLogs(range.from, range.to)).map((l) => l.blockNumber))]
        .filter((b) => b >= range.from && b <= range.to)
        .sort((a, b) => a - b);
      for (const number of blocks) await this.recordBlock(number);
      const end = await this.evm.block(range.to);
      if (!end) throw new DsmError('E_UNAVAILABLE', `the EVM node has no block ${range.to} yet`);
      const batch = this.journal.batch();
      this.journal.putCursor(batch, { number: end.number, hash: end.hash });
      await this.journal.write(batch);
    }
  }

  /**
   * After a reorganisation deeper than the confirmations (an operator resuming), in `batch`: the cursor goes
   * back to the newest block of a recorded burn that is still canonical (before fromBlock when none is), so
   * the new chain is scanned from a block both chains share. Its burns already recorded (same transaction,
   * same log index) are skipped; burns that exist only on the new chain are recorded and released.
   * Returns the block both chains share (everything up to it stands).
   */
  async rewind(batch: WriteBatch): Promise<number> {
    const cursor = await this.journal.cursor();
    const recorded = new Map<string, ScanCursor>();
    for await (const w of this.journal.withdrawals()) {
      // A block past the cursor (recorded before an earlier rewind) would move it forward, past unscanned ones.
      if (cursor !== undefined && w.blockNumber > cursor.number) continue;
      const hash = w.blockHash.toLowerCase();
      recorded.set(`${w.blockNumber}:${hash}`, { number: w.blockNumber, hash });
    }
    let from = this.options.fromBlock - 1;
    let rewound: ScanCursor | undefined;
    for (const block of [...recorded.values()].sort((a, b) => b.number - a.number)) {
      if ((await this.evm.block(block.number))?.hash.toLowerCase() === block.hash) {
        rewound = block;
        from = block.number;
        break;
      }
    }
    if (rewound) this.journal.putCursor(batch, rewound);
    else this.journal.clearCursor(batch);
    // Burns recorded after that block were on the replaced chain: those not released yet are forgotten
    // (recorded again if the new chain has them too). A released one cannot be taken back: the invariant
    // shows it as a gap for the operator.
    for (const w of await this.journal.openWithdrawals()) {
      if (w.blockNumber > from && w.status === 'proven') this.journal.deleteWithdrawal(batch, w);
    }
    return from;
  }

  /** Proves one block and records its burns with the cursor at that block, in one batch. */
  private async recordBlock(number: number): Promise<void> {
    let block;
    try {
      block = await fetchProvenBlock(this.evm.provider, number, {
        address: this.evm.address,
        topic0: BURN_TOPIC,
      });
    } catch (e) {
      if (e instanceof DsmError && e.code === 'E_PROOF') this.metrics.proofFailures.inc();
      throw e;
    }
    const batch = this.journal.batch();
    for (const log of block.logs) {
      const id = `${log.txHash}:${log.logIndex}`;
      if (await this.journal.withdrawal(id)) continue;
      const record = await this.recordOf(log);
      // The same burn seen again under another id: re-included at another log index after a reorganisation
      // (a rescan after `resume`), or under another transaction hash, which the receipt proof does not
      // cover. Its contract nonce and content are proven: the same ones are the same burn.
      const earlier = await this.journal.withdrawalByBurn(record.nonce);
      if (earlier && sameBurn(earlier, record)) continue;
      this.journal.putWithdrawal(batch, { ...record, seq: this.journal.nextSeq(batch) }, true);
    }
    this.journal.putCursor(batch, { number: block.number, hash: block.hash });
    await this.journal.write(batch);
  }

  private async recordOf(log: ProvenLog): Promise<Omit<WithdrawalRecord, 'seq'>> {
    const burn = this.evm.decodeBurn(log);
    const digest = await this.evm.dsmTokenOf(burn.token, log.blockNumber);
    if (!digest)
      throw new DsmError('E_PROOF', `BurnToDsm of ${burn.token}, a token the bridge did not deploy`);
    const at = now();
    return {
      id: `${log.txHash}:${log.logIndex}`,
      txHash: log.txHash,
      logIndex: log.logIndex,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      wrapped: burn.token,
      token: idFromBytes(dsmIdFromDigest(digest)).toString(),
      from: burn.from,
      amount: burn.amount.toString(),
      // The contract checked its form; an id the protocol cannot read would fail here, loudly.
      recipient: idFromBytes(getBytes(burn.dsmRecipient), 'dsmRecipient').toString(),
      nonce: burn.nonce.toString(),
      status: 'proven',
      receiptsRoot: log.receiptsRoot,
      proof: log.proof,
      createdAt: at,
      updatedAt: at,
    };
  }

  /** Releases every proven withdrawal, oldest first; stops when the DSM side does not answer. */
  async release(): Promise<void> {
    const proven = (await this.journal.openWithdrawals()).filter((w) => w.status === 'proven');
    proven.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    for (const withdrawal of proven) {
      const available = this.states.chain.balance(withdrawal.token);
      if (available < BigInt(withdrawal.amount)) {
        await this.note(withdrawal, `the bridge holds ${available} of the ${withdrawal.amount} to release`);
        continue;
      }
      const sent = await this.states.run(
        { kind: 'release', withdrawal: withdrawal.id },
        {
          kind: 'token.transfer',
          token: parseId(withdrawal.token),
          amount: withdrawal.amount,
          to: parseId(withdrawal.recipient),
          memo: releaseMemo(this.options.chainId, withdrawal.txHash, withdrawal.logIndex),
        },
        (batch) => {
          this.journal.putWithdrawal(batch, { ...withdrawal, status: 'releasing', updatedAt: now() });
        },
      );
      if (!sent) return;
    }
  }

  private async note(withdrawal: WithdrawalRecord, error: string): Promise<void> {
    if (withdrawal.lastError === error) return;
    const batch = this.journal.batch();
    this.journal.putWithdrawal(batch, { ...withdrawal, lastError: error, updatedAt: now() });
    await this.journal.write(batch);
  }
}
