/**
 * Everything the CLI prints, as pure functions of the data: one JSON document with `--json`, aligned
 * text for people otherwise. Commands fetch, then hand their result and a renderer from here to `emit`.
 */
import type { ErrorReport } from './errors.js';
import type {
  Accepted,
  Balances,
  BridgeStatus,
  ChainPage,
  CreatedToken,
  DeployedToken,
  Deposit,
  HostedIdentity,
  IdentityDetails,
  InboxEntry,
  PeerChange,
  ReceivedAll,
  ServiceStatus,
  TokenInfo,
  Topology,
  Withdrawal,
} from './client.js';
import type { PolicyCheck } from './policy-file.js';
import { amountText, type Units } from './units.js';

/** JSON with bigints as decimal text and byte arrays as hex, newline-terminated. */
export function jsonDocument(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_key, v: unknown) => {
        if (typeof v === 'bigint') return v.toString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
        return v;
      },
      2,
    ) + '\n'
  );
}

/** `error E_CODE: message` (and the hint on its own line), or the `{error: {code, message, details}}` document in JSON mode. */
export function errorText(report: Omit<ErrorReport, 'exitCode'>, json: boolean): string {
  if (json)
    return jsonDocument({ error: { code: report.code, message: report.message, details: report.details } });
  return `error ${report.code}: ${report.message}\n${report.hint !== undefined ? `${report.hint}\n` : ''}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** `label  value` lines, labels padded; undefined values are left out, nested objects indented. */
export function fields(entries: [string, unknown][], indent = ''): string {
  const shown = entries.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown
    .map(([k, v]) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) {
        return `${indent}${k}:\n${fields(Object.entries(v), `${indent}  `)}`;
      }
      const text = Array.isArray(v) ? (v.length === 0 ? '-' : v.map(scalar).join(', ')) : scalar(v);
      return `${indent}${`${k}:`.padEnd(width + 1)}  ${text}`;
    })
    .join('\n');
}

/** Amounts are base units unless `units` gives the tokens' decimals (so are all renderers below). */
export function renderBalances(balances: Balances, units: Units = 'raw'): string {
  const tokens = Object.keys(balances).sort();
  if (tokens.length === 0) return 'no balances';
  return table(
    ['TOKEN', 'AVAILABLE', 'LOCKED'],
    tokens.map((t) => [
      t,
      amountText(balances[t]?.available ?? '0', t, units),
      amountText(balances[t]?.locked ?? '0', t, units),
    ]),
  );
}

// ---- status

interface StoragePeerStatus {
  address?: string;
  up?: boolean;
  nodeId?: string;
  behind?: number;
}
interface CoreStorageStatus {
  node?: string;
  up?: boolean;
  error?: string;
}

export function renderStatus(url: string, status: ServiceStatus): string {
  const head = [status.service, status.version, 'at', url].filter((p) => p !== undefined).join(' ');
  if (status.service === 'dsm-storage') {
    const peers = (status.peers as StoragePeerStatus[] | undefined) ?? [];
    return [
      head,
      fields([
        ['node', status.nodeId],
        ['role', status.role],
        ['address', status.address],
        ['replication factor', status.replicationFactor],
        ['objects', status.objects],
        ['bytes', status.bytes],
        ['forks', status.forks],
        ['last seq', status.lastSeq],
      ]),
      peers.length === 0
        ? 'peers: none'
        : table(
            ['PEER', 'UP', 'NODE', 'BEHIND'],
            peers.map((p) => [scalar(p.address), p.up ? 'yes' : 'no', scalar(p.nodeId), scalar(p.behind)]),
          ),
    ].join('\n');
  }
  if (status.service === 'dsm-core' || status.service === 'dsm-core-p2p') {
    const storage = (status.storage as CoreStorageStatus[] | undefined) ?? [];
    return [
      head,
      fields([
        ['hosted identities', status.hostedIdentities],
        ['auto-receive', status.autoReceive],
        ['policy cache', status.policyCache],
      ]),
      storage.length === 0
        ? 'storage nodes: none'
        : table(
            ['STORAGE NODE', 'UP', 'ERROR'],
            storage.map((s) => [scalar(s.node), s.up ? 'yes' : 'no', s.error ?? '']),
          ),
    ].join('\n');
  }
  const { service: _service, version: _version, ...rest } = status;
  return [head, fields(Object.entries(rest))].join('\n');
}

// ---- config and topology

export function renderConfig(config: Record<string, unknown>): string {
  return fields(Object.entries(config));
}

export function renderTopology(topology: Topology): string {
  const title = topology.service === 'core' ? 'storage nodes of this core node' : 'replication peers';
  if (topology.peers.length === 0) return `${title}: none`;
  const rows = topology.peers.map((p) => [
    p.peer,
    p.up ? 'yes' : 'no',
    p.nodeId ?? '-',
    p.behind !== undefined ? String(p.behind) : '-',
    p.error ?? '',
  ]);
  return `${title}:\n${table(['PEER', 'UP', 'NODE', 'BEHIND', 'ERROR'], rows)}`;
}

export function renderPeerChange(change: PeerChange, verb: 'added' | 'removed'): string {
  const what = change.changed ? verb : verb === 'added' ? 'already present' : 'was not present';
  return `${change.peer}: ${what}\npeers: ${change.peers.length === 0 ? 'none' : change.peers.join(', ')}`;
}

// ---- identities

export function renderIdentities(identities: HostedIdentity[]): string {
  if (identities.length === 0) return 'no hosted identities';
  return table(
    ['IDENTITY', 'SUITE', 'LABEL', 'CREATED'],
    identities.map((i) => [i.identity, i.suite, i.label ?? '', i.createdAt]),
  );
}

export function renderCreatedIdentity(created: Accepted): string {
  return fields([
    ['identity', created.identity],
    ['suite', created.suite],
    ['label', created.label],
    ['state', created.stateId],
    ['replicas', created.replicas],
  ]);
}

export function renderIdentity(details: IdentityDetails, units: Units = 'raw'): string {
  return [
    fields([
      ['identity', details.identity],
      ['suite', details.suite],
      ['label', details.label],
      ['hosted', details.hosted ? 'yes' : 'no'],
      ['height', details.n],
      ['head', details.stateId],
      ['forked', details.forked ? 'YES' : 'no'],
      ['pending', details.pending === null ? undefined : details.pending],
    ]),
    renderBalances(details.balances, units),
  ].join('\n');
}

export function renderInbox(entries: InboxEntry[], units: Units = 'raw'): string {
  if (entries.length === 0) return 'inbox empty';
  return table(
    ['TRANSFER', 'FROM', 'TOKEN', 'AMOUNT', 'RECEIVED', 'MEMO'],
    entries.map((e) => [
      e.transfer,
      e.from,
      e.token,
      amountText(e.amount, e.token, units),
      e.received ? 'yes' : 'pending',
      e.memo ?? '',
    ]),
  );
}

// ---- token operations

export function renderAccepted(result: Accepted, units: Units = 'raw'): string {
  const note = result.alreadyReceived ? ' (already received)' : result.resumed ? ' (resumed)' : '';
  return [
    `${result.op} accepted at height ${result.n}${note}`,
    fields([
      ['identity', result.identity],
      ['state', result.stateId],
      ['replicas', result.replicas],
    ]),
    renderBalances(result.balances, units),
  ].join('\n');
}

export function renderCreatedToken(result: CreatedToken, units: Units = 'raw'): string {
  return [
    fields([
      ['token', result.token],
      ['policy', result.policy],
    ]),
    renderAccepted(result, units),
  ].join('\n');
}

export function renderReceived(result: Accepted | ReceivedAll, units: Units = 'raw'): string {
  if (!('received' in result)) return renderAccepted(result, units);
  if (result.received.length === 0) return `nothing pending for ${result.identity}`;
  const last = result.received[result.received.length - 1]!;
  return [
    `received ${result.received.length} transfer${result.received.length === 1 ? '' : 's'}`,
    table(
      ['HEIGHT', 'STATE', 'NOTE'],
      result.received.map((r) => [String(r.n), r.stateId, r.alreadyReceived ? 'already received' : '']),
    ),
    renderBalances(last.balances, units),
  ].join('\n');
}

/** A token carries its own decimals: `units` only says whether to use them (not with --raw). */
export function renderToken(token: TokenInfo, units: Units = 'raw'): string {
  const own: Units = units === 'raw' ? 'raw' : new Map([[token.token, token.decimals]]);
  const amount = (value: string | undefined) =>
    value === undefined ? undefined : amountText(value, token.token, own);
  return fields([
    ['token', token.token],
    ['symbol', token.symbol],
    ['name', token.name],
    ['decimals', token.decimals],
    ['issuer', token.issuer],
    ['policy', token.policy],
    ['initial supply', amount(token.initialSupply)],
    ['created', token.created ? 'yes' : 'no'],
    ['issued', amount(token.supply?.issued)],
    ['burned', amount(token.supply?.burned)],
  ]);
}

// ---- policies

export function renderPolicyCheck(check: PolicyCheck): string {
  return fields([
    ['valid', 'yes'],
    ['anchor', check.anchor],
    ['author', check.author],
    ['conditions', check.conditions],
    ['description', check.description],
  ]);
}

/** A policy in DAG-JSON form: links `{"/": id}` are shown as their id. */
export function renderPolicy(anchor: string, policy: Record<string, unknown>): string {
  const link = (v: unknown) =>
    typeof v === 'object' && v !== null && typeof (v as { '/': unknown })['/'] === 'string'
      ? (v as { '/': string })['/']
      : v;
  const conditions = Array.isArray(policy.conditions) ? (policy.conditions as Record<string, unknown>[]) : [];
  return [
    fields([
      ['anchor', anchor],
      ['author', link(policy.author)],
      ['description', policy.description],
    ]),
    conditions.length === 0
      ? 'conditions: none (every operation allowed)'
      : `conditions:\n${conditions
          .map((c, i) => {
            const { kind, ...rest } = c;
            const args = Object.entries(rest)
              .map(([k, v]) => `${k}=${JSON.stringify(Array.isArray(v) ? v.map(link) : link(v))}`)
              .join(' ');
            return `  ${i}. ${String(kind)} ${args}`.trimEnd();
          })
          .join('\n')}`,
  ].join('\n');
}

// ---- chains

export function renderChain(page: ChainPage): string {
  if (page.states.length === 0) return `no states of ${page.identity} in this range`;
  return table(
    ['N', 'STATE'],
    page.states.map((s) => [String(s.n), s.stateId]),
  );
}

export interface ExportSummary {
  identity: string;
  out: string;
  bytes: number;
  from: number;
  states: number;
  /** Height of the last state in the export, null when it holds none. */
  to: number | null;
}

export function renderExport(summary: ExportSummary): string {
  const range = summary.to === null ? 'no states' : `states ${summary.from}..${summary.to}`;
  return `wrote ${summary.out}: ${summary.bytes} bytes, ${range} of ${summary.identity}`;
}

export interface VerifySummary {
  file: string;
  identity: string;
  ok: boolean;
  /** States in the export, and how many verified before the first failure (all when ok). */
  states: number;
  verified: number;
  foreignVerified: number;
  /** Height and id of the last verified state. */
  head: { n: number; stateId: string } | null;
  failure?: { index: number; n: number | null; rule: string; code: string; message: string };
}

export function renderVerify(summary: VerifySummary): string {
  const head = summary.head ? `, head ${summary.head.n} ${summary.head.stateId}` : '';
  const lines = [
    `${summary.ok ? 'OK' : 'FAILED'}: ${summary.verified}/${summary.states} states of ${summary.identity} verified${head}`,
    `foreign states verified: ${summary.foreignVerified}`,
  ];
  if (summary.failure) {
    const f = summary.failure;
    lines.push(`failure at state ${f.n ?? `#${f.index}`}: rule ${f.rule}, ${f.code}: ${f.message}`);
  }
  return lines.join('\n');
}

// ---- the bridge

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

/** A signed base-unit amount ("-250", the invariant's gap) for people. */
export function signedAmountText(amount: string, token: string, units: Units): string {
  const negative = amount.startsWith('-');
  const text = amountText(negative ? amount.slice(1) : amount, token, units);
  return negative ? `-${text}` : text;
}

/** The form of a deposit's memo, as the status shows it: `evm:<chainId>:<0x recipient>`. */
export function depositMemoForm(chainId: number): string {
  return `evm:${chainId}:<0x recipient>`;
}

/**
 * The bridge's status for people: a halted bridge first and in capitals, where to send deposits, both
 * chains, the signer set, and the invariant per wrapped token with every non-"0" gap flagged FAULT.
 */
export function renderBridgeStatus(url: string, status: BridgeStatus, units: Units = 'raw'): string {
  const lines = [`${status.service} ${status.version} at ${url}`];
  if (status.halted !== null) {
    lines.push(
      `HALTED at block ${status.halted.block} since ${status.halted.at}: ${status.halted.reason}`,
      'nothing is minted or released until an operator resumes the bridge',
    );
  }
  const faults = status.invariant.filter((entry) => entry.gap !== '0');
  if (faults.length > 0) {
    lines.push(
      `INVARIANT FAULT: ${faults.length} token${faults.length === 1 ? '' : 's'} with a non-zero gap`,
    );
  }
  lines.push(
    fields([
      ['identity', status.identity],
      ['deposit memo', depositMemoForm(status.chainId)],
      ['chain id', status.chainId],
      ['contract', status.contract],
      ['confirmations', status.confirmations],
      ['halted', status.halted === null ? 'no' : `YES (block ${status.halted.block})`],
    ]),
    'evm:',
    fields(
      [
        ['reachable', yesNo(status.evm.reachable)],
        ['head', status.evm.head],
        ['last processed block', status.evm.lastProcessedBlock],
        ['lag', status.evm.lag === null ? null : `${status.evm.lag} blocks`],
        ['last error', status.evm.lastError],
      ],
      '  ',
    ),
    'dsm:',
    fields(
      [
        ['reachable', yesNo(status.dsm.reachable)],
        ['height', status.dsm.n],
        ['last error', status.dsm.lastError],
      ],
      '  ',
    ),
    fields([
      ['attesters', status.attesters],
      ['signers', status.signers],
      ['threshold', `${status.threshold} of ${status.signers.length}`],
      ['pending deposits', status.pending.deposits],
      ['pending withdrawals', status.pending.withdrawals],
    ]),
  );
  if (status.invariant.length === 0) {
    lines.push('invariant: no wrapped tokens');
  } else {
    lines.push(
      'invariant (DSM balance = wrapped supply + in flight):',
      table(
        ['TOKEN', 'WRAPPED', 'DSM BALANCE', 'WRAPPED SUPPLY', 'IN FLIGHT', 'GAP', 'BLOCK', 'CHECK'],
        status.invariant.map((e) => [
          e.token,
          e.wrapped,
          amountText(e.dsmBalance, e.token, units),
          amountText(e.wrappedSupply, e.token, units),
          amountText(e.inFlight, e.token, units),
          signedAmountText(e.gap, e.token, units),
          String(e.block),
          e.gap === '0' ? 'ok' : 'FAULT',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function depositNote(d: Deposit): string {
  if (d.mintTx !== undefined) {
    return `mint ${d.mintTx}${d.mintBlock !== undefined ? ` (block ${d.mintBlock})` : ''}`;
  }
  if (d.refundReason !== undefined) return `refund: ${d.refundReason}`;
  return d.lastError !== undefined ? `retrying: ${d.lastError}` : '';
}

export function renderDeposits(deposits: Deposit[], units: Units = 'raw'): string {
  if (deposits.length === 0) return 'no deposits';
  return table(
    ['TRANSFER', 'STATUS', 'TOKEN', 'AMOUNT', 'RECIPIENT', 'NOTE'],
    deposits.map((d) => [
      d.transfer,
      d.status,
      d.token,
      amountText(d.amount, d.token, units),
      d.recipient !== undefined ? `${d.chainId ?? '?'}:${d.recipient}` : '-',
      depositNote(d),
    ]),
  );
}

/** Every field of each deposit (a look-up by reference). */
export function renderDepositDetails(deposits: Deposit[], units: Units = 'raw'): string {
  return deposits
    .map((d) =>
      fields([
        ['transfer', d.transfer],
        ['status', d.status],
        ['from', d.from],
        ['token', d.token],
        ['amount', amountText(d.amount, d.token, units)],
        ['memo', d.memo],
        ['chain id', d.chainId],
        ['recipient', d.recipient],
        ['received as', d.receive],
        ['wrapped', d.wrapped],
        ['mint tx', d.mintTx],
        ['mint block', d.mintBlock],
        ['refund reason', d.refundReason],
        ['refund', d.refund],
        ['last error', d.lastError],
        ['created', d.createdAt],
        ['updated', d.updatedAt],
      ]),
    )
    .join('\n\n');
}

export function renderWithdrawals(withdrawals: Withdrawal[], units: Units = 'raw'): string {
  if (withdrawals.length === 0) return 'no withdrawals';
  return table(
    ['ID', 'STATUS', 'TOKEN', 'AMOUNT', 'RECIPIENT', 'NOTE'],
    withdrawals.map((w) => [
      w.id,
      w.status,
      w.token,
      amountText(w.amount, w.token, units),
      w.recipient,
      w.release !== undefined
        ? `release ${w.release}`
        : w.lastError !== undefined
          ? `retrying: ${w.lastError}`
          : '',
    ]),
  );
}

/** Every field of each withdrawal but the proof's nodes (counted). */
export function renderWithdrawalDetails(withdrawals: Withdrawal[], units: Units = 'raw'): string {
  return withdrawals
    .map((w) =>
      fields([
        ['id', w.id],
        ['status', w.status],
        ['burn tx', w.txHash],
        ['log index', w.logIndex],
        ['block', `${w.blockNumber} ${w.blockHash}`],
        ['from', w.from],
        ['wrapped', w.wrapped],
        ['token', w.token],
        ['amount', amountText(w.amount, w.token, units)],
        ['recipient', w.recipient],
        ['nonce', w.nonce],
        ['receipts root', w.receiptsRoot],
        ['proof', `${w.proof.length} trie nodes`],
        ['release', w.release],
        ['last error', w.lastError],
        ['created', w.createdAt],
        ['updated', w.updatedAt],
      ]),
    )
    .join('\n\n');
}

export function renderDeployedToken(result: DeployedToken): string {
  return fields([
    ['token', result.token],
    ['wrapped', result.wrapped],
    ['deployed', result.deployed ? 'yes, now' : 'no, it was deployed before'],
    ['tx', result.txHash],
    ['symbol', result.symbol],
    ['name', result.name],
    ['decimals', result.decimals],
  ]);
}

/** `dsm bridge deposit`: the transfer to the bridge, and what the bridge made of it with --wait. */
export interface BridgeDepositResult {
  /** The transfer state id: the deposit's id at the bridge. */
  transfer: string;
  bridge: string;
  chainId: number;
  recipient: string;
  memo: string;
  token: string;
  amount: string;
  amountDisplay?: string;
  accepted: Accepted;
  deposit?: Deposit;
}

export function renderBridgeDeposit(result: BridgeDepositResult, units: Units = 'raw'): string {
  const lines = [
    `sent ${amountText(result.amount, result.token, units)} to the bridge ${result.bridge}`,
    fields([
      ['transfer', result.transfer],
      ['memo', result.memo],
      ['mints to', `${result.recipient} on chain ${result.chainId}`],
    ]),
  ];
  if (result.deposit !== undefined) {
    const d = result.deposit;
    lines.push(`deposit ${d.status}${d.mintTx !== undefined ? ` by ${depositNote(d)}` : ''}`);
    if (d.refundReason !== undefined) lines.push(`refund reason: ${d.refundReason}`);
  } else {
    lines.push(`follow it with: dsm bridge deposits ${result.transfer}`);
  }
  lines.push(renderBalances(result.accepted.balances, units));
  return lines.join('\n');
}

/** `dsm bridge withdraw`: the burn on the EVM chain, and its release on DSM with --wait. */
export interface BridgeWithdrawResult {
  /** `<txHash>:<logIndex>`: the withdrawal's id at the bridge. */
  id: string;
  txHash: string;
  block: number;
  logIndex: number;
  nonce: string;
  from: string;
  wrapped: string;
  token: string;
  amount: string;
  amountDisplay?: string;
  recipient: string;
  withdrawal?: Withdrawal;
}

export function renderBridgeWithdraw(result: BridgeWithdrawResult, units: Units = 'raw'): string {
  const lines = [
    `burnt ${amountText(result.amount, result.token, units)} of ${result.wrapped} for ${result.recipient}`,
    fields([
      ['withdrawal', result.id],
      ['tx', result.txHash],
      ['block', result.block],
      ['nonce', result.nonce],
      ['from', result.from],
      ['token', result.token],
    ]),
  ];
  if (result.withdrawal !== undefined) {
    const w = result.withdrawal;
    lines.push(`withdrawal ${w.status}${w.release !== undefined ? ` by ${w.release}` : ''}`);
  } else {
    lines.push(`follow it with: dsm bridge withdrawals ${result.id}`);
  }
  return lines.join('\n');
}

/** `dsm bridge keygen`: the files written and the identities their keys stand for. */
export interface BridgeKeygenResult {
  dsmKey?: { file: string; identity: string };
  evmKey?: { file: string; address: string };
}

export function renderBridgeKeygen(result: BridgeKeygenResult): string {
  const lines: string[] = [];
  if (result.dsmKey !== undefined) {
    lines.push(`wrote ${result.dsmKey.file} (mode 0600): DSM identity ${result.dsmKey.identity}`);
  }
  if (result.evmKey !== undefined) {
    lines.push(`wrote ${result.evmKey.file} (mode 0600): EVM address ${result.evmKey.address}`);
  }
  return lines.join('\n');
}
