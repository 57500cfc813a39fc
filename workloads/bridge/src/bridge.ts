/**
 * The bridge's loop: one pass at a time (a timer, or a nudge), each pass finishing the outstanding DSM
 * state, receiving new deposits, minting or refunding received ones, following mints, scanning final EVM
 * blocks for burns, releasing them, and checking the supply invariant. A failing side (the EVM node, the
 * core) is recorded and retried at the next pass with nothing lost: every step is journaled first.
 */
import type { BridgeStatus, CoreApi } from '@dsm/api';
import { VERSION } from '@dsm/api';
import type { Logger } from '@dsm/runtime';
import type { Deposits } from './deposits.js';
import type { EvmSide } from './evm/evm-side.js';
import type { Halt, Journal } from './journal.js';
import type { BridgeMetrics } from './metrics.js';
import { checkInvariant, type InvariantResult } from './steps/invariant.js';
import type { Progress } from './progress.js';
import type { StateRunner } from './state-runner.js';
import type { Withdrawals } from './withdrawals.js';

export interface BridgeParts {
  journal: Journal;
  core: CoreApi;
  evm: EvmSide;
  states: StateRunner;
  deposits: Deposits;
  withdrawals: Withdrawals;
  metrics: BridgeMetrics;
  progress: Progress;
  logger: Logger;
  confirmations: number;
}

const MAX_ROUNDS = 50;

const PENDING_DEPOSIT: ReadonlySet<string> = new Set(['receiving', 'received', 'minting', 'refunding']);

export class Bridge {
  private head: number | null = null;
  private processed: number | null = null;
  private evmError: string | undefined;
  private dsmError: string | undefined;
  private halted: Halt | undefined;
  private invariant: InvariantResult[] = [];
  private signers: { signers: string[]; threshold: number } = { signers: [], threshold: 0 };
  private pending = { deposits: 0, withdrawals: 0 };
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly parts: BridgeParts) {}

  async start(): Promise<void> {
    this.halted = await this.parts.journal.halt();
    this.processed = await this.parts.withdrawals.processed();
  }

  /** Runs a pass now, or right after the one running. */
  pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      // Passes follow each other at once while they move something forward (bounded, so a flood of work
      // still lets the timer, shutdown and status in between).
      for (let round = 0; round < MAX_ROUNDS; round++) {
        this.again = false;
        const before = this.parts.progress.marks;
        await this.once();
        if (!this.again && this.parts.progress.marks === before) break;
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Waits for the pass running, if any (shutdown). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async once(): Promise<void> {
    const { states, deposits, withdrawals, evm, logger } = this.parts;
    if (this.halted) return;
    // DSM: the outstanding state first, then new deposits.
    await this.side('dsm', async () => {
      if (!(await states.finish())) throw new Error(states.lastError ?? 'the core did not answer');
      const received = await deposits.receiveNew();
      if (received > 0) logger.info({ received }, 'received deposits');
      if (states.lastError) throw new Error(states.lastError);
    });
    // EVM: mints, refunds, burns, releases.
    await this.side('evm', async () => {
      const head = await evm.head();
      this.head = head;
      this.signers = await evm.signerSet();
      await deposits.advance(head, this.processed ?? -1);
      const halt = await withdrawals.scan(head);
      this.processed = await withdrawals.processed();
      if (halt) {
        const batch = this.parts.journal.batch();
        this.parts.journal.putHalt(batch, halt);
        await this.parts.journal.write(batch);
        this.halted = halt;
        logger.error({ block: halt.block }, `bridge halted: ${halt.reason}`);
        return;
      }
      await withdrawals.release();
      if (states.lastError) this.dsmError = states.lastError;
      await this.check();
    });
  }

  /** Runs one side's work, recording whether it could reach what it needs. */
  private async side(which: 'evm' | 'dsm', work: () => Promise<void>): Promise<void> {
    try {
      await work();
      if (which === 'evm') this.evmError = undefined;
      else this.dsmError = undefined;
    } catch (e) {
      const message = (e as Error).message;
      if (which === 'evm') this.evmError = message;
      else this.dsmError = message;
      this.parts.metrics.rpcErrors.inc({ side: which });
      this.parts.logger.warn(
        { side: which, err: message },
        'bridge pass incomplete, retrying at the next one',
      );
    }
  }

  /** The supply invariant of every wrapped token at the last processed block, and the pending counts. */
  private async check(): Promise<void> {
    const { journal, evm, states } = this.parts;
    // Only open records can be in flight: finished ones contribute to both sides already.
    const deposits = await journal.openDeposits();
    const withdrawals = await journal.openWithdrawals();
    this.pending = {
      deposits: deposits.filter((d) => PENDING_DEPOSIT.has(d.status)).length,
      withdrawals: withdrawals.length,
    };
    const block = this.processed;
    if (block === null || block < 0) return;
    const results: InvariantResult[] = [];
    for (const token of await journal.tokens()) {
      results.push(
        checkInvariant({
          token: token.token,
          wrapped: token.wrapped,
          dsmBalance: states.chain.balance(token.token),
          wrappedSupply: await evm.totalSupply(token.wrapped, block),
          block,
          deposits,
          withdrawals,
        }),
      );
    }
    for (const result of results) {
      if (result.gap !== '0' && this.invariant.find((r) => r.token === result.token)?.gap !== result.gap) {
        this.parts.logger.error({ token: result.token, gap: result.gap }, 'bridge supply invariant broken');
      }
    }
    this.invariant = results;
  }

  /**
   * Clears a halt (an operator who has looked at the reorganisation); the scan resumes at the new chain.
   * The cursor moves back with the halt cleared (left on the replaced block, the next pass would halt
   * again), burns recorded on the replaced chain and not released are forgotten, and mints the new chain
   * does not have are made again.
   */
  async resume(): Promise<void> {
    await this.idle();
    if (!this.halted) return;
    const batch = this.parts.journal.batch();
    this.parts.journal.clearHalt(batch);
    const shared = await this.parts.withdrawals.rewind(batch);
    const reminted = await this.parts.deposits.remintLost(batch, shared);
    await this.parts.journal.write(batch);
    this.halted = undefined;
    this.processed = await this.parts.withdrawals.processed();
    this.parts.logger.warn(
      { from: this.processed + 1, reminted },
      'bridge resumed: scanning the chain again',
    );
  }

  /** Deploys a wrapped token (the admin route); the deposit flow does the same at a first deposit. */
  deploy(digest: string, definition: { name: string; symbol: string; decimals: number }): Promise<string> {
    return this.parts.deposits.deploy(digest, definition);
  }

  get ready(): { evm: boolean; dsm: boolean } {
    return { evm: this.evmError === undefined && this.head !== null, dsm: this.dsmError === undefined };
  }

  gauges() {
    return {
      pending: () => this.pending,
      lag: () => (this.head !== null && this.processed !== null ? this.head - this.processed : null),
      lastProcessedBlock: () => this.processed,
      gaps: () => this.invariant.map((r) => ({ token: r.token, gap: Number(r.gap) })),
      halted: () => this.halted !== undefined,
      up: () => this.ready,
    };
  }

  status(): BridgeStatus {
    const { evm, states, confirmations } = this.parts;
    return {
      service: 'dsm-bridge',
      version: VERSION,
      identity: states.chain.identity,
      chainId: evm.chainId,
      contract: evm.address,
      confirmations,
      evm: {
        reachable: this.evmError === undefined && this.head !== null,
        head: this.head,
        lastProcessedBlock: this.processed,
        lag: this.head !== null && this.processed !== null ? this.head - this.processed : null,
        ...(this.evmError !== undefined ? { lastError: this.evmError } : {}),
      },
      dsm: {
        reachable: this.dsmError === undefined,
        n: states.chain.n >= 0 ? states.chain.n : null,
        ...(this.dsmError !== undefined ? { lastError: this.dsmError } : {}),
      },
      attesters: evm.attesters.map((w) => w.address),
      signers: this.signers.signers,
      threshold: this.signers.threshold,
      pending: this.pending,
      halted: this.halted ?? null,
      invariant: this.invariant,
    };
  }
}
