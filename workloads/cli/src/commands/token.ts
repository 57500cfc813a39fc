/**
 * `dsm token create|mint|burn|transfer|receive|lock|unlock|show`: token operations of identities hosted by
 * the core node. Amounts are integers in base units (a token with 2 decimals counts 1.00 as "100").
 */
import { parseId } from '@dsm/protocol';
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { parseAmountText, parseIdText, parseInteger } from '../options.js';
import { renderAccepted, renderCreatedToken, renderReceived, renderToken } from '../output.js';
import { checkPolicy, readPolicyFile, type PolicyFile } from '../policy-file.js';
import { UsageError } from '../errors.js';

interface AmountOptions {
  as: string;
  token: string;
  amount: string;
}

function text(option: string, value: string, max: number): string {
  if (value.length < 1 || value.length > max) {
    throw new UsageError(`${option}: expected 1 to ${max} characters, got ${value.length}`, { option });
  }
  return value;
}

export function registerToken(program: Command, io: Io): void {
  const token = program.command('token').description('token operations of hosted identities');

  token
    .command('create')
    .description('create a token issued by --as under a CTPA policy (checked offline first)')
    .requiredOption('--as <identity>', 'issuing hosted identity')
    .requiredOption('--symbol <symbol>', 'ticker, 1 to 32 characters')
    .requiredOption('--name <name>', 'full name, 1 to 200 characters')
    .option('--decimals <d>', 'decimal places for display, 0 to 36', '0')
    .requiredOption('--supply <amount>', 'initial supply in base units, credited to the issuer')
    .option(
      '--policy <file.json>',
      'policy file {"conditions": [...], "description": "..."}; none = empty policy',
    )
    .action(
      async (
        options: {
          as: string;
          symbol: string;
          name: string;
          decimals: string;
          supply: string;
          policy?: string;
        },
        command: Command,
      ) => {
        const issuer = parseIdText('--as', options.as);
        const spec = {
          symbol: text('--symbol', options.symbol, 32),
          name: text('--name', options.name, 200),
          decimals: parseInteger('--decimals', options.decimals, 0, 36),
          initialSupply: parseAmountText('--supply', options.supply, false),
        };
        const ctx = contextOf(command, io);
        const policy: PolicyFile =
          options.policy !== undefined ? await readPolicyFile(options.policy) : { conditions: [] };
        // Refused here, with the condition and field named, before anything reaches the node.
        checkPolicy(policy, parseId(issuer, '--as'));
        ctx.emit(
          await ctx.core().createToken(issuer, { ...spec, policy }),
          renderCreatedToken,
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
      .requiredOption('--amount <amount>', 'base units');
    (extra.options?.(command) ?? command).action(
      async (options: AmountOptions & Record<string, string | undefined>, cmd: Command) => {
        const identity = parseIdText('--as', options.as);
        const body = {
          token: parseIdText('--token', options.token),
          amount: parseAmountText('--amount', options.amount),
          ...extra.body?.(options),
        };
        const ctx = contextOf(cmd, io);
        ctx.emit(await ctx.core().operate(identity, op, body), renderAccepted, (r) => r.stateId);
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

  token
    .command('receive')
    .description('receive one transfer from the inbox, or every pending one')
    .requiredOption('--as <identity>', 'receiving hosted identity')
    .option('--transfer <id>', 'the transfer state id (default: all pending)')
    .action(async (options: { as: string; transfer?: string }, command: Command) => {
      const identity = parseIdText('--as', options.as);
      const transfer =
        options.transfer !== undefined ? parseIdText('--transfer', options.transfer) : undefined;
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.core().receive(identity, transfer), renderReceived);
    });

  token
    .command('show')
    .description('a token definition and its supply')
    .argument('<token>', 'token id')
    .action(async (id: string, _options: object, command: Command) => {
      const checked = parseIdText('<token>', id);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.core().token(checked), renderToken);
    });
}
