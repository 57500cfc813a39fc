/** `dsm identity create|list|show|balances|inbox`: identities hosted by the core node at --url. */
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { addIdempotencyKeyOption, idempotencyKeyOf, keyed, type KeyOptions } from '../idempotency.js';
import { parseIdText, parseSuite } from '../options.js';
import {
  renderBalances,
  renderCreatedIdentity,
  renderIdentities,
  renderIdentity,
  renderInbox,
} from '../output.js';
import { inboxWithDisplay, tokensOf, withBalancesDisplay } from '../units.js';

export function registerIdentity(program: Command, io: Io): void {
  const identity = program.command('identity').description('identities hosted by the core node');

  const create = identity
    .command('create')
    .description('create a hosted identity (keys stay in the core node keystore)')
    .option('--label <label>', 'a name for people (public, part of the genesis)')
    .option('--suite <suite>', 'signature suite (ml-dsa-44, ml-dsa-65, ml-dsa-87, slh-dsa-sha2-128s/f)');
  addIdempotencyKeyOption(create).action(
    async (options: KeyOptions & { label?: string; suite?: string }, command: Command) => {
      const suite = options.suite !== undefined ? parseSuite('--suite', options.suite) : undefined;
      const key = idempotencyKeyOf(options);
      const ctx = contextOf(command, io);
      const body = {
        ...(suite !== undefined ? { suite } : {}),
        ...(options.label !== undefined ? { label: options.label } : {}),
      };
      const created = await keyed(key, (k) => ctx.core().createIdentity(body, k));
      ctx.emit(created, renderCreatedIdentity, (r) => r.identity);
    },
  );

  identity
    .command('list')
    .description('list hosted identities')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const identities = await ctx.core().identities();
      ctx.emit({ identities }, (r) => renderIdentities(r.identities));
    });

  identity
    .command('show')
    .description('an identity: suite, height, head, balances, fork status')
    .argument('<id>', 'identity id')
    .action(async (id: string, _options: object, command: Command) => {
      const checked = parseIdText('<id>', id);
      const ctx = contextOf(command, io);
      const details = await ctx.core().identity(checked);
      const units = await ctx.units(tokensOf(details));
      ctx.emit(withBalancesDisplay(details, units), (r) => renderIdentity(r, units));
    });

  identity
    .command('balances')
    .description("balances at the head of the chain, in each token's decimals")
    .argument('<id>', 'identity id')
    .action(async (id: string, _options: object, command: Command) => {
      const checked = parseIdText('<id>', id);
      const ctx = contextOf(command, io);
      const balances = await ctx.core().balances(checked);
      const units = await ctx.units(tokensOf(balances));
      ctx.emit(
        withBalancesDisplay(balances, units),
        (r) => `height ${r.n}\n${renderBalances(r.balances, units)}`,
      );
    });

  identity
    .command('inbox')
    .description('transfers addressed to the identity')
    .argument('<id>', 'identity id')
    .option('--pending', 'only transfers not received yet')
    .action(async (id: string, options: { pending?: boolean }, command: Command) => {
      const checked = parseIdText('<id>', id);
      const ctx = contextOf(command, io);
      const inbox = await ctx.core().inbox(checked, options.pending === true);
      const units = await ctx.units(tokensOf(inbox));
      ctx.emit({ ...inbox, entries: inboxWithDisplay(inbox.entries, units) }, (r) =>
        renderInbox(r.entries, units),
      );
    });
}
