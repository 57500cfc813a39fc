/**
 * The bridge's own DSM chain. The bridge signs its states itself and sends them to the core as client-signed
 * states (the core never sees its key). At most one state is outstanding (signed, durable, not yet
 * acknowledged): the next is built only on an accepted head, so the chain can never fork, and a crash
 * resends the very bytes that were signed. A state is outstanding from the batch that records the step
 * asking for it until the batch that records its acceptance.
 */
import { isRefusal, type Accepted, type CoreApi } from '@dsm/api';
import {
  DsmError,
  decodeSignedState,
  encode,
  idOf,
  isDsmError,
  makeGenesisState,
  makeNextState,
  type Operation,
  type SignedState,
  type State,
} from '@dsm/protocol';
import type { WriteBatch } from '@dsm/runtime';
import type { BridgeIdentity } from './identity.js';
import type { Journal, Outstanding, Purpose } from './journal.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const unhex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

export type Submission =
  | { outcome: 'accepted'; ack: Accepted }
  /** The state will never be accepted (a protocol refusal); the head was read again from the network. */
  | { outcome: 'refused'; code: string; message: string }
  /** Unknown (the core or storage unavailable, a timeout): send the same bytes again later. */
  | { outcome: 'unknown'; message: string };

export class BridgeChain {
  private head: SignedState;
  private pending: (Outstanding & { state: State }) | undefined;

  private constructor(
    readonly owner: BridgeIdentity,
    private readonly core: CoreApi,
    private readonly journal: Journal,
    head: SignedState,
    pending: Outstanding | undefined,
  ) {
    this.head = head;
    this.pending = pending && { ...pending, state: decodeSignedState(unhex(pending.signed)).signed.state };
  }

  /**
   * The chain as journaled; on a first start, state 0 is signed and made outstanding, or, when the network
   * already holds this identity's chain (a lost data volume), its head is adopted.
   */
  static async open(owner: BridgeIdentity, core: CoreApi, journal: Journal): Promise<BridgeChain> {
    const head = await journal.head();
    const outstanding = await journal.outstanding();
    if (head !== undefined) {
      const journaled = decodeSignedState(unhex(head)).signed;
      await BridgeChain.refuseIfBehind(owner, core, journaled, outstanding);
      return new BridgeChain(owner, core, journal, journaled, outstanding);
    }
    if (outstanding?.purpose.kind === 'open') {
      const zero = decodeSignedState(unhex(outstanding.signed)).signed;
      return new BridgeChain(owner, core, journal, zero, outstanding);
    }
    await core.putObject(encode(owner.genesis));
    const adopted = await BridgeChain.networkHead(owner, core);
    const batch = journal.batch();
    if (adopted) {
      journal.putHead(batch, hex(encode(adopted)));
      await journal.write(batch);
      return new BridgeChain(owner, core, journal, adopted, undefined);
    }
    const zero = owner.sign(makeGenesisState(owner.identity, Date.now()));
    const opening: Outstanding = {
      signed: hex(encode(zero)),
      stateId: idOf(zero.state).toString(),
      purpose: { kind: 'open' },
    };
    journal.putOutstanding(batch, opening);
    await journal.write(batch);
    return new BridgeChain(owner, core, journal, zero, opening);
  }

  /**
   * A journal restored from an older snapshot knows less of the chain than the network does: building on
   * its head would fork the bridge's identity, and its records lack the steps taken since (a burn it would
   * release again). The start stops instead (E_CONFLICT). Ahead by its outstanding state only is a crash
   * between sending that state and recording its acceptance, which the chain finishes as usual.
   */
  private static async refuseIfBehind(
    owner: BridgeIdentity,
    core: CoreApi,
    journaled: SignedState,
    outstanding: Outstanding | undefined,
  ): Promise<void> {
    const network = await BridgeChain.networkHead(owner, core);
    if (network === undefined || network.state.n <= journaled.state.n) return;
    const outstandingLanded =
      network.state.n === journaled.state.n + 1 && outstanding?.stateId === idOf(network.state).toString();
    if (outstandingLanded) return;
    throw new DsmError(
      'E_CONFLICT',
      `the bridge identity's chain is at state ${network.state.n} on the network, but this data volume knows it only up ` +
        `to state ${journaled.state.n} (restored from an older snapshot?): signing on it would fork the identity. ` +
        'Restore the newest snapshot of the bridge instead',
      { network: network.state.n, journal: journaled.state.n },
    );
  }

  /** The identity's head as the network holds it, when it holds one. */
  private static async networkHead(owner: BridgeIdentity, core: CoreApi): Promise<SignedState | undefined> {
    let n: number | null;
    try {
      n = (await core.identity(owner.identity.toString())).n;
    } catch (e) {
      if (isDsmError(e, 'E_NOT_FOUND')) return undefined;
      throw e;
    }
    if (n === null) return undefined;
    const { signed } = decodeSignedState(await core.state(owner.identity.toString(), n));
    if (!signed.state.identity.equals(owner.identity) || signed.state.n !== n) {
      throw new Error(`the core answered state ${n} of the bridge identity with another state`);
    }
    return signed;
  }

  get identity(): string {
    return this.owner.identity.toString();
  }

  /** Whether the chain is open (state 0 accepted). */
  get opened(): boolean {
    return this.pending?.purpose.kind !== 'open';
  }

  /** Height of the accepted head (−1 before state 0 is accepted). */
  get n(): number {
    return this.opened ? this.head.state.n : -1;
  }

  get outstanding(): Outstanding | undefined {
    return this.pending;
  }

  /** Available balance of `token` at the accepted head. */
  balance(token: string): bigint {
    if (!this.opened) return 0n;
    return BigInt(this.head.state.balances[token]?.available ?? '0');
  }

  /**
   * Signs the state doing `op` on the accepted head and records it as outstanding in `batch`; the caller
   * writes the batch (with the step's record) and only then calls `submit`.
   */
  plan(batch: WriteBatch, op: Operation, purpose: Purpose): Outstanding {
    if (this.pending) throw new Error(`a state is already outstanding (${this.pending.stateId})`);
    const state = makeNextState(this.head.state, op, Math.max(Date.now(), this.head.state.t));
    const signed = this.owner.sign(state);
    const outstanding: Outstanding = {
      signed: hex(encode(signed)),
      stateId: idOf(state).toString(),
      purpose,
    };
    this.journal.putOutstanding(batch, outstanding);
    this.pending = { ...outstanding, state };
    return outstanding;
  }

  /** Forgets a plan whose batch was never written. */
  unplan(stateId: string): void {
    if (this.pending?.stateId === stateId) this.pending = undefined;
  }

  /** Sends the outstanding state (the same bytes every time) and says what became of it. */
  async submit(): Promise<Submission> {
    const pending = this.pending;
    if (!pending) throw new Error('no state is outstanding');
    try {
      return { outcome: 'accepted', ack: await this.core.submitState(unhex(pending.signed)) };
    } catch (e) {
      if (isRefusal(e) && isDsmError(e)) return { outcome: 'refused', code: e.code, message: e.message };
      return { outcome: 'unknown', message: (e as Error).message };
    }
  }

  /** After acceptance: in `batch`, the outstanding state becomes the head. Call `settled` once it is written. */
  settle(batch: WriteBatch): void {
    const pending = this.pending;
    if (!pending) throw new Error('no state is outstanding');
    this.journal.putHead(batch, pending.signed);
    this.journal.clearOutstanding(batch);
  }

  settled(): void {
    const pending = this.pending;
    if (!pending) return;
    this.head = decodeSignedState(unhex(pending.signed)).signed;
    this.pending = undefined;
  }

  /**
   * After a refusal, in `batch`: the head becomes what the network holds and the refused state is dropped
   * (a refused state 0 is signed again, with a new time). Call `resynced` once the batch is written.
   */
  async resync(batch: WriteBatch): Promise<() => void> {
    const network = await BridgeChain.networkHead(this.owner, this.core);
    if (network) {
      this.journal.putHead(batch, hex(encode(network)));
      this.journal.clearOutstanding(batch);
      return () => {
        this.head = network;
        this.pending = undefined;
      };
    }
    if (this.pending?.purpose.kind === 'open') {
      const zero = this.owner.sign(makeGenesisState(this.owner.identity, Date.now()));
      const opening = this.opening(zero);
      this.journal.putOutstanding(batch, opening);
      return () => {
        this.head = zero;
        this.pending = { ...opening, state: zero.state };
      };
    }
    this.journal.clearOutstanding(batch);
    return () => {
      this.pending = undefined;
    };
  }

  private opening(zero: SignedState): Outstanding {
    return { signed: hex(encode(zero)), stateId: idOf(zero.state).toString(), purpose: { kind: 'open' } };
  }
}
