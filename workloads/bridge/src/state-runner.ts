/**
 * Runs the steps that need a DSM state (a receive, a refund, a release), one at a time on the bridge's
 * chain: plan the state and the step's record in one durable batch, submit the same bytes until the network
 * gives a verdict, then settle the step's record and the new head in one durable batch. A crash anywhere
 * resumes at `finish()` with the journaled bytes.
 */
import type { Operation } from '@dsm/protocol';
import type { WriteBatch } from '@dsm/runtime';
import type { BridgeChain } from './dsm-chain.js';
import type { Journal, Purpose } from './journal.js';
import type { BridgeMetrics } from './metrics.js';
import type { Progress } from './progress.js';

const now = () => new Date().toISOString();

export class StateRunner {
  /** The last DSM failure, until a submission succeeds. */
  lastError: string | undefined;

  constructor(
    readonly chain: BridgeChain,
    private readonly journal: Journal,
    private readonly metrics: BridgeMetrics,
    private readonly progress: Progress,
  ) {}

  /**
   * Plans `op` for `purpose` (with `record` writing the step's record into the same batch) and carries it
   * through. True when the network gave a verdict, false when it could not be reached (try again later).
   */
  async run(purpose: Purpose, op: Operation, record: (batch: WriteBatch) => void): Promise<boolean> {
    if (!(await this.finish())) return false;
    const batch = this.journal.batch();
    const planned = this.chain.plan(batch, op, purpose);
    try {
      record(batch);
      await this.journal.write(batch);
    } catch (e) {
      this.chain.unplan(planned.stateId);
      throw e;
    }
    return this.finish();
  }

  /** Carries the outstanding state, if any, to a verdict: true when none is left outstanding. */
  async finish(): Promise<boolean> {
    const outstanding = this.chain.outstanding;
    if (!outstanding) return true;
    const result = await this.chain.submit();
    if (result.outcome === 'unknown') {
      this.lastError = result.message;
      this.metrics.rpcErrors.inc({ side: 'dsm' });
      return false;
    }
    this.lastError = undefined;
    const batch = this.journal.batch();
    if (result.outcome === 'accepted') {
      this.chain.settle(batch);
      await this.settle(batch, outstanding.purpose, outstanding.stateId);
      // Lost in a crash, the acceptance is asked for again with the same bytes and given again (200).
      await this.journal.writeLazily(batch);
      this.chain.settled();
      this.progress.mark();
      return true;
    }
    const resynced = await this.chain.resync(batch);
    await this.refused(batch, outstanding.purpose, `${result.code}: ${result.message}`);
    await this.journal.write(batch);
    resynced();
    return true;
  }

  /** The step the accepted state was for is done. */
  private async settle(batch: WriteBatch, purpose: Purpose, stateId: string): Promise<void> {
    const at = now();
    switch (purpose.kind) {
      case 'open':
        return;
      case 'receive': {
        const deposit = await this.journal.deposit(purpose.deposit);
        if (deposit)
          this.journal.putDeposit(batch, { ...deposit, status: 'received', receive: stateId, updatedAt: at });
        return;
      }
      case 'refund': {
        const deposit = await this.journal.deposit(purpose.deposit);
        if (deposit)
          this.journal.putDeposit(batch, { ...deposit, status: 'refunded', refund: stateId, updatedAt: at });
        this.metrics.deposits.inc({ result: 'refunded' });
        return;
      }
      case 'release': {
        const withdrawal = await this.journal.withdrawal(purpose.withdrawal);
        if (withdrawal) {
          this.journal.putWithdrawal(batch, {
            ...withdrawal,
            status: 'released',
            release: stateId,
            updatedAt: at,
          });
          this.metrics.withdrawals.inc({ result: 'released' });
          this.metrics.withdrawalSeconds.observe((Date.now() - Date.parse(withdrawal.createdAt)) / 1000);
        }
        return;
      }
    }
  }

  /**
   * The network refused the state: it will never be accepted. A receive of a transfer the bridge had
   * already received (a journal behind the network) counts as received; any other refused receive is
   * final; a refund or a release is planned again at the next pass.
   */
  private async refused(batch: WriteBatch, purpose: Purpose, error: string): Promise<void> {
    const at = now();
    switch (purpose.kind) {
      case 'open':
        return;
      case 'receive': {
        const deposit = await this.journal.deposit(purpose.deposit);
        if (!deposit) return;
        const duplicate = error.startsWith('E_DUPLICATE_RECEIVE');
        this.journal.putDeposit(batch, {
          ...deposit,
          status: duplicate ? 'received' : 'rejected',
          lastError: error,
          updatedAt: at,
        });
        if (!duplicate) this.metrics.deposits.inc({ result: 'rejected' });
        return;
      }
      case 'refund': {
        const deposit = await this.journal.deposit(purpose.deposit);
        if (deposit) this.journal.putDeposit(batch, { ...deposit, lastError: error, updatedAt: at });
        return;
      }
      case 'release': {
        const withdrawal = await this.journal.withdrawal(purpose.withdrawal);
        if (withdrawal) {
          this.journal.putWithdrawal(batch, {
            ...withdrawal,
            status: 'proven',
            lastError: error,
            updatedAt: at,
          });
        }
        return;
      }
    }
  }
}
