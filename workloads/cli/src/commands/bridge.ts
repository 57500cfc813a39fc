/**
 * `dsm bridge status|deposits|withdrawals|deploy|deposit|withdraw|keygen`: the DSM ⇄ EVM bridge at
 * --bridge-url. A deposit (DSM → EVM) is a hosted transfer through the core to the bridge's own identity
 * with the memo `evm:<chainId>:<0x address>`; a withdrawal (EVM → DSM) is a `burnToDsm` call on the
 * bridge contract, signed with the user's own EVM key through the contract's generated binding. Amounts
 * are in the token's decimals unless --raw.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dsmBridgeAt, wrappedDsmTokenAt, type DsmBridge } from '@dsm/bridge/contracts';
import { RpcUnavailableError } from '@dsm/bridge/deploy';
import { bridgeIdentity, formatBridgeSeed } from '@dsm/bridge/identity';
import { DsmError, isDsmError, parseId, type ErrorDetails } from '@dsm/protocol';
import { Option, type Command } from 'commander';
import {
  FetchRequest,
  JsonRpcProvider,
  Wallet,
  isAddress,
  isError,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type ErrorDescription,
  type Interface,
} from 'ethers';
import type { BridgeToken, Deposit, Withdrawal } from '../client.js';
import { contextOf, type Context, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { addIdempotencyKeyOption, idempotencyKeyOf, keyed, type KeyOptions } from '../idempotency.js';
import {
  checkDecimalAmount,
  parseAmountText,
  parseDecimalAmount,
  parseIdText,
  parseInteger,
  parseUrl,
} from '../options.js';
import {
  renderBridgeDeposit,
  renderBridgeKeygen,
  renderBridgeStatus,
  renderBridgeWithdraw,
  renderDeployedToken,
  renderDepositDetails,
  renderDeposits,
  renderWithdrawalDetails,
  renderWithdrawals,
  type BridgeDepositResult,
  type BridgeKeygenResult,
  type BridgeWithdrawResult,
} from '../output.js';
import { formatUnits } from '../amount.js';
import type { Units } from '../units.js';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8545';
/** How long `--wait` waits when given without seconds. */
export const DEFAULT_WAIT_SECONDS = 300;
/** Between two looks at a deposit or withdrawal while waiting. */
export const POLL_MS = 500;
/** How long `withdraw` waits for the receipt of its burn. */
export const RECEIPT_TIMEOUT_MS = 120_000;

// ---- option values, pure

function invalid(option: string, value: string, expected: string): UsageError {
  return new UsageError(`${option}: expected ${expected}, got "${value}"`, { option, value, expected });
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const EVM_KEY = /^0x[0-9a-fA-F]{64}$/;

/**
 * An EVM address, lowercase: 0x and 40 hex characters, whose EIP-55 checksum holds when it is written in
 * mixed case (ethers `isAddress`).
 */
export function parseEvmAddress(option: string, value: string): string {
  const v = value.trim();
  if (!ADDRESS.test(v) || !isAddress(v)) {
    throw invalid(option, value, 'an EVM address (0x and 40 hex characters, a valid checksum if mixed case)');
  }
  return v.toLowerCase();
}

/** The memo that makes a transfer to the bridge a deposit: `evm:<chainId>:<lowercase 0x address>`. */
export function depositMemo(chainId: number, address: string): string {
  return `evm:${chainId}:${parseEvmAddress('--to', address)}`;
}

/** `--wait` without a value waits the default; with one, that many seconds (1 to 86400). */
export function parseWait(option: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_WAIT_SECONDS;
  return parseInteger(option, value, 1, 86_400);
}

/** A deposit's reference: a DSM transfer id, or a mint transaction hash (lowercased). */
export function parseDepositRef(option: string, value: string): string {
  const v = value.trim();
  if (HASH.test(v)) return v.toLowerCase();
  try {
    return parseId(v, option).toString();
  } catch {
    throw invalid(option, value, 'a DSM transfer id or a mint transaction hash (0x and 64 hex characters)');
  }
}

/** A withdrawal's reference: a burn transaction hash, `<txHash>:<logIndex>`, or a DSM release state id. */
export function parseWithdrawalRef(option: string, value: string): string {
  const v = value.trim();
  const [hash, logIndex, ...rest] = v.split(':');
  if (hash !== undefined && HASH.test(hash) && rest.length === 0) {
    if (logIndex === undefined) return hash.toLowerCase();
    if (/^[0-9]{1,9}$/.test(logIndex)) return `${hash.toLowerCase()}:${Number(logIndex)}`;
  }
  try {
    return parseId(v, option).toString();
  } catch {
    throw invalid(
      option,
      value,
      'a burn transaction hash (0x and 64 hex characters), <txHash>:<logIndex> or a DSM release state id',
    );
  }
}

/** The text of an EVM key file: 0x and 64 hex characters, surrounding whitespace ignored; never echoed. */
export function parseEvmKey(option: string, file: string, text: string): Wallet {
  const key = text.trim();
  const refused = () =>
    new UsageError(`${option}: ${file} does not hold an EVM private key (0x and 64 hex characters)`, {
      option,
      file,
    });
  if (!EVM_KEY.test(key)) throw refused();
  try {
    return new Wallet(key);
  } catch {
    // Zero or not below the curve order: ethers' message is not repeated, it names the key's form only.
    throw refused();
  }
}

export async function readKeyFile(option: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${option}: cannot read ${file} (${reason})`, { option, file });
  }
}

/** `--amount` as base-unit text: checked for shape first, then against the token's decimals. */
async function amountOf(ctx: Context, value: string, token: string): Promise<string> {
  if (ctx.raw) return parseAmountText('--amount', value);
  checkDecimalAmount('--amount', value);
  return parseDecimalAmount('--amount', value, await ctx.decimals(token));
}

/** A deposit or withdrawal with `decimals` and `amountDisplay` next to its base units (not with --raw). */
export function withAmountDisplay<T extends { token: string; amount: string }>(
  item: T,
  units: Units,
): T & { decimals?: number; amountDisplay?: string } {
  if (units === 'raw') return item;
  const decimals = units.get(item.token);
  return decimals === undefined
    ? item
    : { ...item, decimals, amountDisplay: formatUnits(BigInt(item.amount), decimals) };
}

/** The decimals of the wrapped tokens as the bridge lists them; none when it cannot (amounts then in base units). */
async function wrappedUnits(ctx: Context): Promise<Units> {
  if (ctx.raw) return 'raw';
  const tokens = await ctx
    .bridge()
    .tokens()
    .catch((): BridgeToken[] => []);
  return new Map(tokens.map((t) => [t.token, t.decimals]));
}

/** A look-up that found nothing is E_NOT_FOUND, like `show` commands of an unknown id. */
function found<T>(items: T[], what: string, ref: string): T[] {
  if (items.length === 0) throw new DsmError('E_NOT_FOUND', `no ${what} ${ref}`, { ref });
  return items;
}

// ---- waiting for the bridge

interface Waited<T> {
  last: T | undefined;
  done: boolean;
}

/**
 * Looks at `look()` every POLL_MS until `done` or `seconds` have passed. Not knowing the item yet
 * (E_NOT_FOUND) and a bridge briefly away (E_UNAVAILABLE) are waited through; each change of status is
 * written to stderr for people (not with --json or --quiet).
 */
async function waitFor<T extends { status: string }>(
  ctx: Context,
  what: string,
  seconds: number,
  look: () => Promise<T | undefined>,
  done: (item: T) => boolean,
): Promise<Waited<T>> {
  const started = Date.now();
  const deadline = started + seconds * 1000;
  const progress = (text: string) => {
    if (!ctx.json && !ctx.quiet) ctx.io.stderr.write(`${text}\n`);
  };
  let last: T | undefined;
  let shown = '';
  for (;;) {
    try {
      last = (await look()) ?? last;
    } catch (error) {
      if (!isDsmError(error, 'E_NOT_FOUND') && !isDsmError(error, 'E_UNAVAILABLE')) throw error;
    }
    const status = last?.status ?? 'not seen by the bridge yet';
    if (status !== shown) {
      shown = status;
      progress(`${what}: ${status} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    if (last !== undefined && done(last)) return { last, done: true };
    const left = deadline - Date.now();
    if (left <= 0) return { last, done: false };
    // The last look is at the deadline.
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
  }
}

function notDoneError(what: string, seconds: number, status: string | undefined, details: ErrorDetails) {
  return new DsmError(
    'E_UNAVAILABLE',
    `${what} not done within ${seconds} s (${status ?? 'not seen by the bridge yet'}); the bridge carries on with it`,
    { ...details, waitedSeconds: seconds, status: status ?? null },
  );
}

// ---- the EVM side

/** What a revert, a refused transaction or an RPC failure becomes: the contract's custom error named. */
export function evmFailure(error: unknown, what: string, rpc: string, interfaces: Interface[]): Error {
  if (error instanceof DsmError || error instanceof UsageError) return error;
  if (error instanceof RpcUnavailableError) {
    return new DsmError('E_UNAVAILABLE', `${what}: ${error.message}`, { url: rpc });
  }
  if (isError(error, 'CALL_EXCEPTION')) {
    const decoded = decodeRevert(revertData(error), interfaces);
    const name = decoded?.name ?? error.revert?.name ?? null;
    const text =
      decoded !== null
        ? `${decoded.name}(${decoded.fragment.inputs
            .map((input, i) => `${input.name || i}=${String(decoded.args[i])}`)
            .join(', ')})`
        : (error.revert?.name ?? error.reason ?? 'without a reason');
    return new DsmError('E_BAD_REQUEST', `${what} reverted: ${text}`, { revert: name });
  }
  if (isError(error, 'INSUFFICIENT_FUNDS')) {
    return new DsmError('E_BALANCE', `${what}: the EVM account has too little ether to pay for the gas`, {});
  }
  if (isError(error, 'TIMEOUT') || isError(error, 'NETWORK_ERROR') || isError(error, 'SERVER_ERROR')) {
    return new DsmError('E_UNAVAILABLE', `${what}: ${rpc} did not answer (${error.shortMessage})`, {
      url: rpc,
    });
  }
  const message = isError(error, 'UNKNOWN_ERROR')
    ? error.shortMessage
    : error instanceof Error
      ? ((error as { shortMessage?: string }).shortMessage ?? error.message)
      : String(error);
  return new DsmError('E_INTERNAL', `${what}: ${message}`, { url: rpc });
}

function revertData(error: { data?: string | null; info?: unknown }): string | null {
  if (typeof error.data === 'string' && error.data.length >= 10) return error.data;
  const nested = (error.info as { error?: { data?: unknown } } | undefined)?.error?.data;
  if (typeof nested === 'string' && nested.length >= 10) return nested;
  const inner = (nested as { data?: unknown } | undefined)?.data;
  return typeof inner === 'string' && inner.length >= 10 ? inner : null;
}

function decodeRevert(data: string | null, interfaces: Interface[]): ErrorDescription | null {
  if (data === null) return null;
  for (const iface of interfaces) {
    try {
      const decoded = iface.parseError(data);
      if (decoded !== null) return decoded;
    } catch {
      // Not this contract's error: try the next.
    }
  }
  return null;
}

/**
 * A provider for `rpc` that is told the bridge's chain id (no network detection loop when the RPC is
 * down), sends one request per attempt within the CLI's deadline, and caches nothing (cacheTimeout -1).
 */
function evmProvider(rpc: string, chainId: number, timeoutMs: number): JsonRpcProvider {
  const request = new FetchRequest(rpc);
  request.timeout = timeoutMs;
  return new JsonRpcProvider(request, chainId, {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
    pollingInterval: 1000,
  });
}

/** The chain id the RPC answers, asked of the node itself (eth_chainId). */
async function rpcChainId(provider: JsonRpcProvider, rpc: string): Promise<bigint> {
  try {
    return BigInt((await provider.send('eth_chainId', [])) as string);
  } catch (error) {
    const reason = isError(error, 'UNKNOWN_ERROR')
      ? error.shortMessage
      : ((error as { shortMessage?: string }).shortMessage ?? (error as Error).message);
    throw new DsmError('E_UNAVAILABLE', `${rpc} did not answer eth_chainId (${reason})`, { url: rpc });
  }
}

async function burnToDsm(
  ctx: Context,
  contract: DsmBridge,
  interfaces: Interface[],
  rpc: string,
  args: { wrapped: string; amount: string; recipient: Uint8Array },
): Promise<ContractTransactionReceipt> {
  let tx: ContractTransactionResponse;
  try {
    tx = await contract.burnToDsm(args.wrapped, BigInt(args.amount), args.recipient);
  } catch (error) {
    throw evmFailure(error, 'burnToDsm', rpc, interfaces);
  }
  if (!ctx.json && !ctx.quiet) ctx.io.stderr.write(`sent burnToDsm ${tx.hash}, waiting for its receipt\n`);
  let receipt: ContractTransactionReceipt | null;
  try {
    receipt = await tx.wait(1, RECEIPT_TIMEOUT_MS);
  } catch (error) {
    if (isError(error, 'TIMEOUT')) receipt = null;
    else throw evmFailure(error, `burnToDsm ${tx.hash}`, rpc, interfaces);
  }
  if (receipt === null) {
    throw new DsmError(
      'E_UNAVAILABLE',
      `no receipt for burnToDsm ${tx.hash} within ${RECEIPT_TIMEOUT_MS / 1000} s: it may still be mined, look it up before sending another`,
      { url: rpc, txHash: tx.hash },
    );
  }
  return receipt;
}

// ---- key files

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    (e: NodeJS.ErrnoException) => e.code !== 'ENOENT',
  );
}

/** Writes a new key file, mode 0600; never replaces one (`wx`). */
async function writeKeyFile(option: string, file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unwritable';
    if (code === 'EEXIST') throw refuseOverwrite(option, file);
    throw new UsageError(`${option}: cannot write ${file} (${code})`, { option, file });
  }
}

function refuseOverwrite(option: string, file: string): UsageError {
  return new UsageError(`${option}: ${file} exists; a key file is never overwritten`, { option, file });
}

// ---- the commands

interface DepositOptions extends KeyOptions {
  as: string;
  token: string;
  amount: string;
  to: string;
  wait?: string | boolean;
}

interface WithdrawOptions {
  keyFile: string;
  token: string;
  amount: string;
  to: string;
  rpc: string;
  wait?: string | boolean;
}

const WAIT_HELP = `seconds to wait for the bridge (default ${DEFAULT_WAIT_SECONDS} when given without a value)`;

/** Registers `dsm bridge` and its subcommands; returns it for the commands other modules add. */
export function registerBridge(program: Command, io: Io): Command {
  const bridge = program
    .command('bridge')
    .description('the DSM ⇄ EVM bridge at --bridge-url: status, deposits, withdrawals, keys');

  bridge
    .command('status')
    .description("the bridge's identity, both chains, signers, pending work, halt and invariant")
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const status = await ctx.bridge().status();
      const units = ctx.json || status.invariant.length === 0 ? 'raw' : await wrappedUnits(ctx);
      ctx.emit(status, (s) => renderBridgeStatus(ctx.endpoints.bridgeUrl, s, units));
    });

  bridge
    .command('deposits')
    .description('DSM → EVM deposits, newest first; with <ref>, those of one transfer or mint')
    .argument('[ref]', 'DSM transfer id or mint transaction hash')
    .option('--limit <n>', 'how many, 1 to 10000 (default 100)')
    .action(async (ref: string | undefined, options: { limit?: string }, command: Command) => {
      const checked = ref !== undefined ? parseDepositRef('<ref>', ref) : undefined;
      const limit = listLimit(checked, options.limit);
      const ctx = contextOf(command, io);
      const deposits =
        checked !== undefined
          ? found(
              await ctx.bridge().deposit(checked),
              'deposit with transfer id or mint transaction',
              checked,
            )
          : await ctx.bridge().deposits(limit);
      const units = await ctx.units(deposits.map((d) => d.token));
      const shown: Deposit[] = deposits.map((d) => withAmountDisplay(d, units));
      ctx.emit({ deposits: shown }, (r) =>
        checked !== undefined ? renderDepositDetails(r.deposits, units) : renderDeposits(r.deposits, units),
      );
    });

  bridge
    .command('withdrawals')
    .description('EVM → DSM withdrawals, newest first; with <ref>, those of one burn or release')
    .argument('[ref]', 'burn transaction hash, <txHash>:<logIndex> or DSM release state id')
    .option('--limit <n>', 'how many, 1 to 10000 (default 100)')
    .action(async (ref: string | undefined, options: { limit?: string }, command: Command) => {
      const checked = ref !== undefined ? parseWithdrawalRef('<ref>', ref) : undefined;
      const limit = listLimit(checked, options.limit);
      const ctx = contextOf(command, io);
      const withdrawals =
        checked !== undefined
          ? found(await ctx.bridge().withdrawal(checked), 'withdrawal', checked)
          : await ctx.bridge().withdrawals(limit);
      const units = await ctx.units(withdrawals.map((w) => w.token));
      const shown: Withdrawal[] = withdrawals.map((w) => withAmountDisplay(w, units));
      ctx.emit({ withdrawals: shown }, (r) =>
        checked !== undefined
          ? renderWithdrawalDetails(r.withdrawals, units)
          : renderWithdrawals(r.withdrawals, units),
      );
    });

  bridge
    .command('deploy')
    .description("deploy a DSM token's wrapped ERC-20 (admin, --token-file); does nothing when it exists")
    .argument('<token>', 'DSM token id')
    .action(async (token: string, _options: object, command: Command) => {
      const checked = parseIdText('<token>', token);
      const ctx = contextOf(command, io);
      const deployed = await ctx.bridge({ admin: true }).deployToken(checked);
      ctx.emit(deployed, renderDeployedToken, (r) => r.wrapped);
    });

  bridge
    .command('resume')
    .description('clear a halt after a deep reorganisation was looked into (admin, --token-file)')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const status = await ctx.bridge({ admin: true }).resume();
      const units = ctx.json || status.invariant.length === 0 ? 'raw' : await wrappedUnits(ctx);
      ctx.emit(status, (s) => renderBridgeStatus(ctx.endpoints.bridgeUrl, s, units));
    });

  const deposit = bridge
    .command('deposit')
    .description('send DSM tokens of a hosted identity to the bridge, to be minted to an EVM address')
    .requiredOption('--as <identity>', 'sending hosted identity')
    .requiredOption('--token <token>', 'DSM token id')
    .requiredOption('--amount <amount>', "in the token's decimals, e.g. 25.50 (base units with --raw)")
    .requiredOption('--to <address>', 'EVM address the wrapped tokens are minted to')
    .option('--wait [seconds]', `${WAIT_HELP}: until minted or refunded`);
  addIdempotencyKeyOption(deposit).action(async (options: DepositOptions, command: Command) => {
    const from = parseIdText('--as', options.as);
    const token = parseIdText('--token', options.token);
    const recipient = parseEvmAddress('--to', options.to);
    const wait = parseWait('--wait', options.wait);
    const key = idempotencyKeyOf(options);
    const ctx = contextOf(command, io);
    const amount = await amountOf(ctx, options.amount, token);
    const status = await ctx.bridge().status();
    if (status.halted !== null && !ctx.json && !ctx.quiet) {
      io.stderr.write(
        `warning: the bridge is halted (${status.halted.reason}); the deposit waits until it resumes\n`,
      );
    }
    const memo = depositMemo(status.chainId, recipient);
    const body = { token, amount, to: status.identity, memo };
    const accepted = await keyed(key, (k) => ctx.core().operate(from, 'transfer', body, k));
    const units = await ctx.units([token, ...Object.keys(accepted.balances)]);
    const transfer = accepted.stateId;
    const result: BridgeDepositResult = {
      ...withAmountDisplay(
        {
          transfer,
          bridge: status.identity,
          chainId: status.chainId,
          recipient,
          memo,
          token,
          amount,
        },
        units,
      ),
      accepted,
    };
    let failure: DsmError | undefined;
    if (wait !== undefined) {
      const what = `deposit ${transfer}`;
      const waited = await waitFor(
        ctx,
        what,
        wait,
        async () => (await ctx.bridge().deposit(transfer))[0],
        (d) => d.status === 'minted' || d.status === 'refunded',
      );
      if (waited.last !== undefined) result.deposit = withAmountDisplay(waited.last, units);
      if (!waited.done) failure = notDoneError(what, wait, waited.last?.status, { transfer });
      else if (waited.last?.status === 'refunded') {
        failure = new DsmError(
          'E_BAD_REQUEST',
          `${what} was refunded: ${waited.last.refundReason ?? 'no reason given'}`,
          { transfer, refund: waited.last.refund ?? null, refundReason: waited.last.refundReason ?? null },
        );
      }
    }
    ctx.emit(
      result,
      (r) => renderBridgeDeposit(r, units),
      (r) => r.transfer,
    );
    // The transfer happened: its result is printed, then why the command still fails.
    if (failure !== undefined) throw failure;
  });

  bridge
    .command('withdraw')
    .description('burn wrapped tokens on the EVM chain (burnToDsm) to be released to a DSM identity')
    .requiredOption('--key-file <file>', 'file holding the EVM private key (0x and 64 hex characters)')
    .requiredOption('--token <token>', 'DSM token id whose wrapped ERC-20 is burnt')
    .requiredOption('--amount <amount>', "in the token's decimals, e.g. 25.50 (base units with --raw)")
    .requiredOption('--to <identity>', 'DSM identity the tokens are released to')
    .addOption(
      new Option('--rpc <url>', 'JSON-RPC URL of the EVM node').env('DSM_EVM_RPC').default(DEFAULT_RPC_URL),
    )
    .option('--wait [seconds]', `${WAIT_HELP}: until released`)
    .action(async (options: WithdrawOptions, command: Command) => {
      const token = parseIdText('--token', options.token);
      const recipient = parseIdText('--to', options.to);
      const rpc = parseUrl('--rpc', options.rpc);
      const wait = parseWait('--wait', options.wait);
      const ctx = contextOf(command, io);
      if (ctx.raw) parseAmountText('--amount', options.amount);
      else checkDecimalAmount('--amount', options.amount);
      const wallet = parseEvmKey(
        '--key-file',
        options.keyFile,
        await readKeyFile('--key-file', options.keyFile),
      );
      const [status, tokens] = await Promise.all([ctx.bridge().status(), ctx.bridge().tokens()]);
      const wrapped = tokens.find((t) => t.token === token);
      if (wrapped === undefined) {
        throw new UsageError(
          `--token: ${token} has no wrapped ERC-20 on chain ${status.chainId} (an admin deploys it with: dsm bridge deploy ${token})`,
          { option: '--token', token },
        );
      }
      // The wrapped ERC-20 has the DSM token's decimals (the bridge deploys it with them).
      ctx.knowDecimals(token, wrapped.decimals);
      const amount = await amountOf(ctx, options.amount, token);
      const provider = evmProvider(rpc, status.chainId, ctx.endpoints.timeoutMs);
      try {
        const chainId = await rpcChainId(provider, rpc);
        if (chainId !== BigInt(status.chainId)) {
          throw new UsageError(
            `--rpc: ${rpc} is chain ${chainId}, the bridge's contract is on chain ${status.chainId}`,
            { option: '--rpc', url: rpc, chainId: Number(chainId), bridgeChainId: status.chainId },
          );
        }
        const signer = wallet.connect(provider);
        const contract = dsmBridgeAt(status.contract, signer);
        const interfaces = [contract.interface, wrappedDsmTokenAt(wrapped.wrapped).interface];
        const receipt = await burnToDsm(ctx, contract, interfaces, rpc, {
          wrapped: wrapped.wrapped,
          amount,
          recipient: parseId(recipient, '--to').bytes,
        });
        const event = receipt.logs
          .filter((log) => log.address.toLowerCase() === status.contract.toLowerCase())
          .map((log) => ({ log, parsed: contract.interface.parseLog(log) }))
          .find((e) => e.parsed?.name === 'BurnToDsm');
        if (event === undefined || event.parsed === null) {
          throw new DsmError('E_INTERNAL', `no BurnToDsm event in the receipt of ${receipt.hash}`, {
            txHash: receipt.hash,
          });
        }
        const txHash = receipt.hash.toLowerCase();
        const units = await ctx.units([token]);
        const result: BridgeWithdrawResult = withAmountDisplay(
          {
            id: `${txHash}:${event.log.index}`,
            txHash,
            block: receipt.blockNumber,
            logIndex: event.log.index,
            nonce: (event.parsed.args.nonce as bigint).toString(),
            from: wallet.address,
            wrapped: wrapped.wrapped,
            token,
            amount,
            recipient,
          },
          units,
        );
        let failure: DsmError | undefined;
        if (wait !== undefined) {
          const what = `withdrawal ${result.id}`;
          const waited = await waitFor(
            ctx,
            what,
            wait,
            async () => (await ctx.bridge().withdrawal(result.id))[0],
            (w) => w.status === 'released',
          );
          if (waited.last !== undefined) result.withdrawal = withAmountDisplay(waited.last, units);
          if (!waited.done) failure = notDoneError(what, wait, waited.last?.status, { id: result.id });
        }
        ctx.emit(
          result,
          (r) => renderBridgeWithdraw(r, units),
          (r) => r.id,
        );
        if (failure !== undefined) throw failure;
      } finally {
        provider.destroy();
      }
    });

  bridge
    .command('keygen')
    .description('new key files for a bridge: its DSM seed and/or its EVM key (mode 0600, never overwritten)')
    .option('--dsm-key <file>', "write a new 32-byte seed of the bridge's DSM identity here")
    .option('--evm-key <file>', 'write a new EVM private key here')
    .action(async (options: { dsmKey?: string; evmKey?: string }, command: Command) => {
      const ctx = contextOf(command, io);
      const { dsmKey, evmKey } = options;
      if (dsmKey === undefined && evmKey === undefined) {
        throw new UsageError('bridge keygen: give --dsm-key <file>, --evm-key <file> or both');
      }
      if (dsmKey !== undefined && dsmKey === evmKey) {
        throw new UsageError('bridge keygen: --dsm-key and --evm-key name the same file', { file: dsmKey });
      }
      // Both refused before either is written.
      for (const [option, file] of [
        ['--dsm-key', dsmKey],
        ['--evm-key', evmKey],
      ] as const) {
        if (file !== undefined && (await exists(file))) throw refuseOverwrite(option, file);
      }
      const result: BridgeKeygenResult = {};
      if (dsmKey !== undefined) {
        const seed = new Uint8Array(randomBytes(32));
        await writeKeyFile('--dsm-key', dsmKey, formatBridgeSeed(seed));
        result.dsmKey = { file: dsmKey, identity: bridgeIdentity(seed).identity.toString() };
      }
      if (evmKey !== undefined) {
        const wallet = Wallet.createRandom();
        await writeKeyFile('--evm-key', evmKey, `${wallet.privateKey}\n`);
        result.evmKey = { file: evmKey, address: wallet.address };
      }
      ctx.emit(result, renderBridgeKeygen);
    });
  return bridge;
}

function listLimit(ref: string | undefined, limit: string | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (ref !== undefined)
    throw new UsageError('--limit: only for a list, not with <ref>', { option: '--limit' });
  return parseInteger('--limit', limit, 1, 10_000);
}
