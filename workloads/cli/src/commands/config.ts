/** `dsm config get|set`: run-time settings of a core or storage node through its admin API. */
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { configChanges, type ConfigSetOptions } from '../options.js';
import { renderConfig } from '../output.js';

export function registerConfig(program: Command, io: Io): void {
  const config = program
    .command('config')
    .description('run-time settings of the node at --admin-url (needs the admin token)');

  config
    .command('get')
    .description('show the run-time settings')
    .action(async (_options: object, command: Command) => {
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.admin().config(), renderConfig);
    });

  config
    .command('set')
    .description('change run-time settings (persisted by the node); at least one option')
    .option('--policy-cache-size <n>', 'verified policies kept in memory (core)')
    .option('--policy-ttl <seconds>', 'seconds a cached policy stays fresh (core)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--auto-receive <bool>', 'receive incoming transfers of hosted identities: true or false (core)')
    .option('--receive-poll-ms <n>', 'auto-receive poll interval in milliseconds (core)')
    .action(async (options: ConfigSetOptions, command: Command) => {
      const changes = configChanges(options);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.admin().setConfig(changes), renderConfig);
    });
}
