/**
 * The memos the bridge reads and writes on DSM transfers (protocol.md §5): a deposit names its EVM chain and
 * recipient, `evm:<chainId>:<0x recipient>`; a release names the burn it pays out,
 * `evm:<chainId>:<txHash>:<logIndex>`; a refund says why, `refund:<reason>`. Memos are 1–256 UTF-8 bytes.
 */

export const MAX_MEMO_BYTES = 256;

export type DepositMemo =
  { ok: true; chainId: number; recipient: string } | { ok: false; reason: string; chainId?: number };

const DEPOSIT = /^evm:([1-9][0-9]{0,15}):(0x[0-9a-fA-F]{40})$/;

/**
 * What a deposit's memo asks for, judged against the chain this bridge serves. The address is any case
 * (checksums are a display convention) and is returned lowercase; the zero address is refused because the
 * contract would refuse to mint to it.
 */
export function parseDepositMemo(memo: string | undefined, servedChainId: number): DepositMemo {
  if (memo === undefined) return { ok: false, reason: 'no memo: expected evm:<chainId>:<0x recipient>' };
  const match = DEPOSIT.exec(memo);
  if (!match) {
    return /^evm:[1-9][0-9]{0,15}:/.test(memo)
      ? { ok: false, reason: 'malformed EVM address: expected 0x and 40 hex characters' }
      : { ok: false, reason: 'malformed memo: expected evm:<chainId>:<0x recipient>' };
  }
  const chainId = Number(match[1]);
  const recipient = (match[2] as string).toLowerCase();
  if (!Number.isSafeInteger(chainId)) return { ok: false, reason: 'malformed chain id' };
  if (chainId !== servedChainId) {
    return {
      ok: false,
      chainId,
      reason: `wrong chain: this bridge serves chain ${servedChainId}, not ${chainId}`,
    };
  }
  if (/^0x0{40}$/.test(recipient)) return { ok: false, chainId, reason: 'the zero address cannot receive' };
  return { ok: true, chainId, recipient };
}

/** The memo of a deposit (what `dsm bridge deposit` writes). */
export function depositMemo(chainId: number, recipient: string): string {
  return `evm:${chainId}:${recipient.toLowerCase()}`;
}

/** The memo of the release paying out one BurnToDsm event. */
export function releaseMemo(chainId: number, txHash: string, logIndex: number): string {
  return `evm:${chainId}:${txHash.toLowerCase()}:${logIndex}`;
}

/** The memo of a refund: the reason, cut to fit 256 bytes without splitting a character. */
export function refundMemo(reason: string): string {
  let memo = `refund:${reason}`;
  while (Buffer.byteLength(memo, 'utf8') > MAX_MEMO_BYTES) memo = [...memo].slice(0, -1).join('');
  return memo;
}
