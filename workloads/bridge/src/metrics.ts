/** The bridge's metrics (`dsm_bridge_*`), named once here. */
import { Counter, Gauge, Histogram, type Registry } from '@dsm/runtime';

/** What the gauges read at scrape time. */
export interface BridgeGaugeSource {
  pending(): { deposits: number; withdrawals: number };
  /** Blocks between the EVM head and the last processed block (null before the first look). */
  lag(): number | null;
  lastProcessedBlock(): number | null;
  /** Gap of the supply invariant per DSM token symbol (or id). */
  gaps(): { token: string; gap: number }[];
  halted(): boolean;
  up(): { evm: boolean; dsm: boolean };
}

export function bridgeMetrics(registry: Registry, source: BridgeGaugeSource) {
  const registers = [registry];
  new Gauge({
    name: 'dsm_bridge_pending',
    help: 'Deposits and withdrawals not finished yet',
    labelNames: ['direction'],
    registers,
    collect() {
      const pending = source.pending();
      this.set({ direction: 'deposit' }, pending.deposits);
      this.set({ direction: 'withdrawal' }, pending.withdrawals);
    },
  });
  new Gauge({
    name: 'dsm_bridge_confirmation_lag_blocks',
    help: 'Blocks between the EVM head and the last block the bridge processed',
    registers,
    collect() {
      const lag = source.lag();
      if (lag !== null) this.set(lag);
    },
  });
  new Gauge({
    name: 'dsm_bridge_last_processed_block',
    help: 'Last EVM block whose BurnToDsm events the bridge has recorded',
    registers,
    collect() {
      const block = source.lastProcessedBlock();
      if (block !== null) this.set(block);
    },
  });
  new Gauge({
    name: 'dsm_bridge_invariant_gap',
    help: 'DSM balance of the bridge minus wrapped supply minus in-flight amounts, per token (0 when sound)',
    labelNames: ['token'],
    registers,
    collect() {
      this.reset();
      for (const { token, gap } of source.gaps()) this.set({ token }, gap);
    },
  });
  new Gauge({
    name: 'dsm_bridge_halted',
    help: '1 when the bridge stopped processing (a reorganisation deeper than the confirmation depth)',
    registers,
    collect() {
      this.set(source.halted() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'dsm_bridge_up',
    help: 'Whether the last request to each side succeeded',
    labelNames: ['side'],
    registers,
    collect() {
      const up = source.up();
      this.set({ side: 'evm' }, up.evm ? 1 : 0);
      this.set({ side: 'dsm' }, up.dsm ? 1 : 0);
    },
  });
  return {
    deposits: new Counter({
      name: 'dsm_bridge_deposits_total',
      help: 'Deposits (DSM → EVM) finished, by result: minted, refunded, rejected',
      labelNames: ['result'],
      registers,
    }),
    withdrawals: new Counter({
      name: 'dsm_bridge_withdrawals_total',
      help: 'Withdrawals (EVM → DSM) finished, by result: released',
      labelNames: ['result'],
      registers,
    }),
    gasSpent: new Counter({
      name: 'dsm_bridge_gas_spent_wei_total',
      help: 'Wei the bridge paid for its EVM transactions (mints, deployments)',
      registers,
    }),
    proofFailures: new Counter({
      name: 'dsm_bridge_proof_failures_total',
      help: 'EVM blocks whose header or receipts did not verify (the block was not acted on)',
      registers,
    }),
    rpcErrors: new Counter({
      name: 'dsm_bridge_rpc_errors_total',
      help: 'Failed requests, by side: evm, dsm',
      labelNames: ['side'],
      registers,
    }),
    depositSeconds: new Histogram({
      name: 'dsm_bridge_deposit_duration_seconds',
      help: 'From receiving a deposit on DSM to its mint being final',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers,
    }),
    withdrawalSeconds: new Histogram({
      name: 'dsm_bridge_withdrawal_duration_seconds',
      help: 'From proving a burn to its release being accepted on DSM',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

export type BridgeMetrics = ReturnType<typeof bridgeMetrics>;
