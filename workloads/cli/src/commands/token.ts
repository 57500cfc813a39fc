/**
 * `dsm token create|mint|burn|transfer|receive|lock|unlock|show`: token operations of identities hosted by
 * the core node. Amounts are in the token's decimals ("25.00" of a 2-decimal token is 2500 base units on
 * the wire), base units with --raw. Each state-changing command sends one idempotency key.
 */
import { parseId } from '@dsm/protocol';
import type { Command } from 'commander';
import { contextOf, type Context, type Io } from '../context.js';
import { addIdempotencyKeyOption, idempotencyKeyOf, keyed, type KeyOptions } from '../idempotency.js';
import {
  MAX_DECIMALS,
  checkDecimalAmount,
  parseAmountText,
  parseDecimalAmount,
  parseIdText,
  parseInteger,
} from '../options.js';
import { renderAccepted, renderCreatedToken, renderReceived, renderToken } from '../output.js';
import { checkPolicy, readPolicyFile, type PolicyFile } from '../policy-file.js';
import { UsageError } from '../errors.js';
import { receivedWithDisplay, tokenWithDisplay, tokensOf, withBalancesDisplay } from '../units.js';

interface AmountOptions extends KeyOptions {
  as: string;
  token: string;
  amount: string;
}

/** `--amount` as base-unit text: checked for shape first, then against the token's decimals. */
async function amountOf(ctx: Context, value: string, token: string): Promise<string> {
  if (ctx.raw) return parseAmountText('--amount', value);
  checkDecimalAmount('--amount', value);
  return parseDecimalAmount('--amount', value, await ctx.decimals(token));
}

function text(option: string, value: string, max: number): string {
  if (value.length < 1 || value.length > max) {
    throw new UsageError(`${option}: expected 1 to ${max} characters, got ${value.length}`, { option });
  }
  return value;
}

export function registerToken(program: Command, io: Io): void {
  const token = program.command('token').description('token operations of hosted identities');

  const create = token
    .command('create')
    .description('create a token issued by --as under a CTPA policy (checked offline first)')
    .requiredOption('--as <identity>', 'issuing hosted identity')
    .requiredOption('--symbol <symbol>', 'ticker, 1 to 32 characters')
    .requiredOption('--name <name>', 'full name, 1 to 200 characters')
    .option('--decimals <d>', `decimal places, 0 to ${MAX_DECIMALS}`, '0')
    .requiredOption(
      '--supply <amount>',
      'initial supply in --decimals (base units with --raw), to the issuer',
    )
    .option(
      '--policy <file.json>',
      'policy file {"conditions": [...], "description": "..."}; none = empty policy',
    );
  addIdempotencyKeyOption(create).action(
    async (
      options: KeyOptions & {
        as: string;
        symbol: string;
        name: string;
        decimals: string;
        supply: string;
        policy?: string;
      },
      command: Command,
    ) => {
      const ctx = contextOf(command, io);
      const issuer = parseIdText('--as', options.as);
      const decimals = parseInteger('--decimals', options.decimals, 0, MAX_DECIMALS);
      const spec = {
        symbol: text('--symbol', options.symbol, 32),
        name: text('--name', options.name, 200),
        decimals,
        initialSupply: ctx.raw
          ? parseAmountText('--supply', options.supply, false)
          : parseDecimalAmount('--supply', options.supply, decimals, false),
      };
      const key = idempotencyKeyOf(options);
      const policy: PolicyFile =
        options.policy !== undefined ? await readPolicyFile(options.policy) : { conditions: [] };
      // Refused here, with the condition and field named, before anything reaches the node.
      checkPolicy(policy, parseId(issuer, '--as'));
      const created = await keyed(key, (k) => ctx.core().createToken(issuer, { ...spec, policy }, k));
      ctx.knowDecimals(created.token, decimals);
      const units = await ctx.units(tokensOf(created));
      ctx.emit(
        withBalancesDisplay(created, units),
        (r) => renderCreatedToken(r, units),
        (r) => r.token,
      );
    },
  );

  // mint, burn, transfer, lock, unlock: one hosted identity acting on one token with an amount.
  const operation = (
    op: 'mint' | 'burn' | 'transfer' | 'lock' | 'unlock',
    description: string,
    as: string,
    extra: {
      options?: (command: Command) => Command;
      body?: (options: Record<string, string | undefined>) => Record<string, string>;
    } = {},
  ) => {
    const command = token
      .command(op)
      .description(description)
      .requiredOption('--as <identity>', as)
      .requiredOption('--token <token>', 'token id')
      .requiredOption('--amount <amount>', "in the token's decimals, e.g. 25.50 (base units with --raw)");
    addIdempotencyKeyOption(extra.options?.(command) ?? command).action(
      async (options: AmountOptions & Record<string, string | undefined>, cmd: Command) => {
        const ctx = contextOf(cmd, io);
        const identity = parseIdText('--as', options.as);
        const tokenId = parseIdText('--token', options.token);
        const rest = extra.body?.(options);
        const key = idempotencyKeyOf(options);
        const body = { token: tokenId, amount: await amountOf(ctx, options.amount, tokenId), ...rest };
        const result = await keyed(key, (k) => ctx.core().operate(identity, op, body, k));
        const units = await ctx.units(tokensOf(result));
        ctx.emit(
          withBalancesDisplay(result, units),
          (r) => renderAccepted(r, units),
          (r) => r.stateId,
        );
      },
    );
  };

  operation('mint', 'issue new units of a token (issuer; the policy decides)', 'hosted identity');
  operation('burn', 'destroy units the identity holds', 'hosted identity');
  operation(
    'transfer',
    'send units to another identity (it receives them from its inbox)',
    'sending hosted identity',
    {
      options: (c) =>
        c
          .requiredOption('--to <identity>', 'recipient identity')
          .option('--memo <memo>', 'text carried with the transfer'),
      body: (o) => ({ to: parseIdText('--to', o.to!), ...(o.memo !== undefined ? { memo: o.memo } : {}) }),
    },
  );
  const purpose = {
    options: (c: Command) => c.option('--purpose <purpose>', 'why (up to 200 characters)', ''),
    body: (o: Record<string, string | undefined>) => ({ purpose: o.purpose ?? '' }),
  };
  operation('lock', 'move available units to locked', 'hosted identity', purpose);
  operation('unlock', 'move locked units back to available', 'hosted identity', purpose);

  const receive = token
    .command('receive')
    .description('receive one transfer from the inbox, or every pending one')
    .requiredOption('--as <identity>', 'receiving hosted identity')
    .option('--transfer <id>', 'the transfer state id (default: all pending)');
  addIdempotencyKeyOption(receive).action(
    async (options: KeyOptions & { as: string; transfer?: string }, command: Command) => {
      const ctx = contextOf(command, io);
      const identity = parseIdText('--as', options.as);
      const transfer =
        options.transfer !== undefined ? parseIdText('--transfer', options.transfer) : undefined;
      const key = idempotencyKeyOf(options);
      const result = await keyed(key, (k) => ctx.core().receive(identity, transfer, k));
      const units = await ctx.units(tokensOf(result));
      ctx.emit(receivedWithDisplay(result, units), (r) => renderReceived(r, units));
    },
  );

  token
    .command('show')
    .description('a token definition and its supply')
    .argument('<token>', 'token id')
    .action(async (id: string, _options: object, command: Command) => {
      const checked = parseIdText('<token>', id);
      const ctx = contextOf(command, io);
      const units = await ctx.units([]);
      ctx.emit(tokenWithDisplay(await ctx.core().token(checked), units), (r) => renderToken(r, units));
    });
}
