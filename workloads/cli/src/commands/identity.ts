/** `dsm identity create|list|show|balances|inbox`: identities hosted by the core node at --url. */
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { parseIdText, parseSuite } from '../options.js';
import {
  renderBalances,
  renderCreatedIdentity,
  renderIdentities,
  renderIdentity,
  renderInbox,
} from '../output.js';

export function registerIdentity(program: Command, io: Io): void {
  const identity = program.command('identity').description('identities hosted by the core node');

  identity
    .command('create')
    .description('create a hosted identity (keys stay in the core node keystore)')
    .option('--label <label>', 'a name for people (public, part of the genesis)')
    .option('--suite <suite>', 'signature suite (ml-dsa-44, ml-dsa-65, ml-dsa-87, slh-dsa-sha2-128s/f)')
    .action(async (options: { label?: string; suite?: string }, command: Command) => {
      const suite = options.suite !== undefined ? parseSuite('--suite', options.suite) : undefined;
      const ctx = contextOf(command, io);
      const created = await ctx.core().createIdentity({
        ...(suite !== undefined ? { suite } : {}),
        ...(options.label !== undefined ? { label: options.label } : {}),
      });
      ctx.emit(created, renderCreatedIdentity, (r) => r.identity);
    });

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
      ctx.emit(await ctx.core().identity(checked), renderIdentity);
    });

  identity
    .command('balances')
    .description('balances at the head of the chain (base units)')
    .argument('<id>', 'identity id')
    .action(async (id: string, _options: object, command: Command) => {
      const checked = parseIdText('<id>', id);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.core().balances(checked), (r) => `height ${r.n}\n${renderBalances(r.balances)}`);
    });

  identity
    .command('inbox')
    .description('transfers addressed to the identity')
    .argument('<id>', 'identity id')
    .option('--pending', 'only transfers not received yet')
    .action(async (id: string, options: { pending?: boolean }, command: Command) => {
      const checked = parseIdText('<id>', id);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.core().inbox(checked, options.pending === true), (r) => renderInbox(r.entries));
    });
}
