/** `dsm config get|set`: run-time settings of a core or storage node through its admin API. */
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { CONFIG_FLAGS, configChanges, type ConfigSetOptions } from '../options.js';
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

  const set = config
    .command('set')
    .description('change run-time settings (persisted by the node); at least one option');
  // One option per run-time setting of the services' config schemas; commander names each by its key.
  for (const flag of CONFIG_FLAGS) set.option(`${flag.flag} <${flag.argument}>`, flag.description);
  set.action(async (options: ConfigSetOptions, command: Command) => {
    const changes = configChanges(options);
    const ctx = contextOf(command, io);
    ctx.emit(await ctx.admin().setConfig(changes), renderConfig);
  });
}
