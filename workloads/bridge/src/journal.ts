/**
 * The bridge's durable record of every step, in RocksDB: its DSM chain (the accepted head and the one state
 * signed but not yet acknowledged), deposits, withdrawals, wrapped tokens, the EVM scan cursor and a halt. A step's record and the chain change it causes go into one write
 * batch, written durably (fsync) before anything is sent, so a crash at any point resumes from a state that
 * was on disk: the same signed bytes or the same raw transaction are sent again, never new ones.
 */
import type { Deposit, Withdrawal } from '@dsm/api';
import { key, keyPrefix, u64be, type Store, type WriteBatch } from '@dsm/runtime';

/** A deposit as recorded: the API's view plus what resuming needs. */
export interface DepositRecord extends Deposit {
  /** Order of discovery, for newest-first listings. */
  seq: number;
  /** A minted deposit whose mint is in the wrapped supply at the last processed block: nothing left to watch. */
  closed?: boolean;
  /** The raw signed mint transaction (0x-hex) and its nonce, kept until the mint is final. */
  mintRaw?: string;
  mintNonce?: number;
}

export interface WithdrawalRecord extends Withdrawal {
  seq: number;
}

/** What the one outstanding DSM state is for. */
export type Purpose =
  | { kind: 'open' }
  | { kind: 'receive'; deposit: string }
  | { kind: 'refund'; deposit: string }
  | { kind: 'release'; withdrawal: string };

export interface Outstanding {
  /** DAG-CBOR of the signed state, hex. */
  signed: string;
  stateId: string;
  purpose: Purpose;
}

export interface WrappedToken {
  token: string;
  wrapped: string;
  symbol: string;
  name: string;
  decimals: number;
}

export interface ScanCursor {
  /** The last block whose BurnToDsm events are recorded, and its hash. */
  number: number;
  hash: string;
}

export interface Halt {
  reason: string;
  block: number;
  at: string;
}

const K = {
  head: key('chain', 'head'),
  outstanding: key('chain', 'outstanding'),
  deposit: (transfer: string) => key('deposit', transfer),
  deposits: keyPrefix('deposit'),
  depositOrder: (seq: number) => key('order', 'deposit', u64be(seq)),
  depositOrders: keyPrefix('order', 'deposit'),
  openDeposit: (transfer: string) => key('open', 'deposit', transfer),
  openDeposits: keyPrefix('open', 'deposit'),
  openWithdrawal: (id: string) => key('open', 'withdrawal', id),
  openWithdrawals: keyPrefix('open', 'withdrawal'),
  withdrawal: (id: string) => key('withdrawal', id),
  withdrawals: keyPrefix('withdrawal'),
  withdrawalOrder: (seq: number) => key('order', 'withdrawal', u64be(seq)),
  withdrawalOrders: keyPrefix('order', 'withdrawal'),
  byMintTx: (hash: string) => key('index', 'mint-tx', hash),
  byRelease: (stateId: string) => key('index', 'release', stateId),
  byBurn: (nonce: string) => key('index', 'burn-nonce', nonce),
  token: (token: string) => key('token', token),
  tokens: keyPrefix('token'),
  cursor: key('evm', 'cursor'),
  halt: key('halt'),
  seq: key('seq'),
};

const FINAL_DEPOSIT: ReadonlySet<string> = new Set(['refunded', 'rejected']);
const isOpenDeposit = (record: DepositRecord) =>
  !FINAL_DEPOSIT.has(record.status) && !(record.status === 'minted' && record.closed === true);

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const parse = <T>(bytes: Buffer | null): T | undefined =>
  bytes === null ? undefined : (JSON.parse(bytes.toString('utf8')) as T);

export class Journal {
  private seq = 0;

  private constructor(readonly store: Store) {}

  static async open(store: Store): Promise<Journal> {
    const journal = new Journal(store);
    journal.seq = parse<number>(await store.get(K.seq)) ?? 0;
    return journal;
  }

  batch(): WriteBatch {
    return this.store.batch();
  }

  /** Every step is durable before the bridge acts on it. */
  write(batch: WriteBatch): Promise<void> {
    return batch.write({ sync: true });
  }

  /**
   * A record that may be lost in a crash because redoing it is harmless (an acceptance the network gives
   * again for the same bytes). The write-ahead log keeps order, so the next durable write covers it too.
   */
  writeLazily(batch: WriteBatch): Promise<void> {
    return batch.write({ sync: false });
  }

  nextSeq(batch: WriteBatch): number {
    this.seq += 1;
    batch.put(K.seq, json(this.seq));
    return this.seq;
  }

  // ---- the bridge's DSM chain

  async head(): Promise<string | undefined> {
    return parse<string>(await this.store.get(K.head));
  }
  putHead(batch: WriteBatch, signedHex: string): void {
    batch.put(K.head, json(signedHex));
  }
  async outstanding(): Promise<Outstanding | undefined> {
    return parse<Outstanding>(await this.store.get(K.outstanding));
  }
  putOutstanding(batch: WriteBatch, outstanding: Outstanding): void {
    batch.put(K.outstanding, json(outstanding));
  }
  clearOutstanding(batch: WriteBatch): void {
    batch.delete(K.outstanding);
  }

  // ---- deposits

  async deposit(transfer: string): Promise<DepositRecord | undefined> {
    return parse(await this.store.get(K.deposit(transfer)));
  }
  /** A new deposit gets its place in the listing; later puts keep it. */
  putDeposit(batch: WriteBatch, record: DepositRecord, isNew = false): void {
    batch.put(K.deposit(record.transfer), json(record));
    if (isNew) batch.put(K.depositOrder(record.seq), Buffer.from(record.transfer));
    if (record.mintTx) batch.put(K.byMintTx(record.mintTx), Buffer.from(record.transfer));
    // Open deposits are the only ones a pass looks at, so a pass costs what is in flight, not the history.
    if (isOpenDeposit(record)) batch.put(K.openDeposit(record.transfer), Buffer.alloc(0));
    else batch.delete(K.openDeposit(record.transfer));
  }
  /** Deposits not finished yet, and minted ones not yet seen in the wrapped supply. */
  async openDeposits(): Promise<DepositRecord[]> {
    return this.depositsOf(await this.openIds(K.openDeposits));
  }
  private async openIds(prefix: Buffer): Promise<string[]> {
    const ids: string[] = [];
    for await (const { key } of this.store.prefix(prefix))
      ids.push(key.subarray(prefix.length).toString('utf8'));
    return ids;
  }
  async *deposits(): AsyncGenerator<DepositRecord> {
    for await (const { value } of this.store.prefix(K.deposits)) yield JSON.parse(value.toString('utf8'));
  }
  async recentDeposits(limit: number): Promise<DepositRecord[]> {
    const ids: string[] = [];
    for await (const { value } of this.store.prefix(K.depositOrders, { reverse: true, limit })) {
      ids.push(value.toString('utf8'));
    }
    return this.depositsOf(ids);
  }
  async depositByMintTx(hash: string): Promise<DepositRecord | undefined> {
    const transfer = await this.store.get(K.byMintTx(hash));
    return transfer === null ? undefined : this.deposit(transfer.toString('utf8'));
  }
  private async depositsOf(ids: string[]): Promise<DepositRecord[]> {
    const values = await this.store.getMany(ids.map(K.deposit));
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v.toString('utf8')) as DepositRecord]));
  }

  // ---- withdrawals

  async withdrawal(id: string): Promise<WithdrawalRecord | undefined> {
    return parse(await this.store.get(K.withdrawal(id)));
  }
  putWithdrawal(batch: WriteBatch, record: WithdrawalRecord, isNew = false): void {
    batch.put(K.withdrawal(record.id), json(record));
    if (isNew) batch.put(K.withdrawalOrder(record.seq), Buffer.from(record.id));
    if (record.release) batch.put(K.byRelease(record.release), Buffer.from(record.id));
    batch.put(K.byBurn(record.nonce), Buffer.from(record.id));
    if (record.status !== 'released') batch.put(K.openWithdrawal(record.id), Buffer.alloc(0));
    else batch.delete(K.openWithdrawal(record.id));
  }
  /** Forgets a withdrawal whose burn is no longer on the chain (after a deep reorganisation). */
  deleteWithdrawal(batch: WriteBatch, record: WithdrawalRecord): void {
    batch.delete(K.withdrawal(record.id));
    batch.delete(K.withdrawalOrder(record.seq));
    batch.delete(K.openWithdrawal(record.id));
    batch.delete(K.byBurn(record.nonce));
  }
  /** Withdrawals not released yet. */
  async openWithdrawals(): Promise<WithdrawalRecord[]> {
    const ids = await this.openIds(K.openWithdrawals);
    const values = await this.store.getMany(ids.map(K.withdrawal));
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v.toString('utf8')) as WithdrawalRecord]));
  }
  async *withdrawals(): AsyncGenerator<WithdrawalRecord> {
    for await (const { value } of this.store.prefix(K.withdrawals)) yield JSON.parse(value.toString('utf8'));
  }
  async recentWithdrawals(limit: number): Promise<WithdrawalRecord[]> {
    const ids: string[] = [];
    for await (const { value } of this.store.prefix(K.withdrawalOrders, { reverse: true, limit })) {
      ids.push(value.toString('utf8'));
    }
    const values = await this.store.getMany(ids.map(K.withdrawal));
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v.toString('utf8')) as WithdrawalRecord]));
  }
  /** Withdrawals of one burn transaction (ids start with its hash). */
  async withdrawalsOfTx(txHash: string): Promise<WithdrawalRecord[]> {
    const out: WithdrawalRecord[] = [];
    for await (const { value } of this.store.prefix(Buffer.from(K.withdrawal(`${txHash}:`)))) {
      out.push(JSON.parse(value.toString('utf8')));
    }
    return out;
  }
  /** The withdrawal last recorded for a BurnToDsm nonce of the contract. */
  async withdrawalByBurn(nonce: string): Promise<WithdrawalRecord | undefined> {
    const id = await this.store.get(K.byBurn(nonce));
    return id === null ? undefined : this.withdrawal(id.toString('utf8'));
  }
  async withdrawalByRelease(stateId: string): Promise<WithdrawalRecord | undefined> {
    const id = await this.store.get(K.byRelease(stateId));
    return id === null ? undefined : this.withdrawal(id.toString('utf8'));
  }

  // ---- wrapped tokens

  async token(token: string): Promise<WrappedToken | undefined> {
    return parse(await this.store.get(K.token(token)));
  }
  putToken(batch: WriteBatch, token: WrappedToken): void {
    batch.put(K.token(token.token), json(token));
  }
  async tokens(): Promise<WrappedToken[]> {
    const out: WrappedToken[] = [];
    for await (const { value } of this.store.prefix(K.tokens)) out.push(JSON.parse(value.toString('utf8')));
    return out;
  }

  // ---- EVM progress

  async cursor(): Promise<ScanCursor | undefined> {
    return parse(await this.store.get(K.cursor));
  }
  /**
   * Advances the cursor. Its hash is enough to detect any reorganisation of processed blocks: block hashes
   * chain, so a change below the cursor changes the cursor block's hash too.
   */
  putCursor(batch: WriteBatch, cursor: ScanCursor): void {
    batch.put(K.cursor, json(cursor));
  }
  /** Back before the first block: the next scan starts at fromBlock. */
  clearCursor(batch: WriteBatch): void {
    batch.delete(K.cursor);
  }

  async halt(): Promise<Halt | undefined> {
    return parse(await this.store.get(K.halt));
  }
  putHalt(batch: WriteBatch, halt: Halt): void {
    batch.put(K.halt, json(halt));
  }
  clearHalt(batch: WriteBatch): void {
    batch.delete(K.halt);
  }
}
