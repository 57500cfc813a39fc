/**
 * The `dsm` program: global options, the command groups, and one place that turns any failure into
 * `error E_CODE: message` (or its JSON document) on stderr and an exit code: 1 for errors, 2 for usage.
 */
import { VERSION } from '@dsm/api';
import { Command, CommanderError, Option } from 'commander';
import { registerBackup } from './commands/backup.js';
import { registerBridge } from './commands/bridge.js';
import { registerBridgeContract } from './commands/bridge-contract.js';
import { registerChain } from './commands/chain.js';
import { registerConfig } from './commands/config.js';
import { registerIdentity } from './commands/identity.js';
import { registerPolicy } from './commands/policy.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';
import { registerTopology } from './commands/topology.js';
import {
  DEFAULT_ADMIN_URL,
  DEFAULT_BRIDGE_URL,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_URL,
  type Io,
} from './context.js';
import { EXIT_OK, EXIT_USAGE, UsageError, reportOf } from './errors.js';
import { errorText } from './output.js';

export { VERSION };

export function createProgram(io: Io): Command {
  const program = new Command('dsm')
    .description(
      'Operate a DSM network: status, configuration, topology, identities, tokens, policies, chains, the EVM bridge, backups.',
    )
    .version(VERSION)
    .addOption(
      new Option('--url <url>', 'core client API (status: any service)').env('DSM_URL').default(DEFAULT_URL),
    )
    .addOption(
      new Option('--admin-url <url>', 'admin/P2P port of a core or storage node')
        .env('DSM_ADMIN_URL')
        .default(DEFAULT_ADMIN_URL),
    )
    .addOption(
      new Option('--bridge-url <url>', "the bridge's API (dsm bridge ...)")
        .env('DSM_BRIDGE_URL')
        .default(DEFAULT_BRIDGE_URL),
    )
    .addOption(
      new Option('--token-file <path>', 'file holding the admin bearer token').env('DSM_ADMIN_TOKEN_FILE'),
    )
    .addOption(
      new Option('--api-token-file <path>', "file holding the core's API token (custodial operations)").env(
        'DSM_API_TOKEN_FILE',
      ),
    )
    .addOption(
      new Option('--timeout <ms>', 'deadline of one HTTP attempt in milliseconds')
        .env('DSM_TIMEOUT_MS')
        .default(String(DEFAULT_TIMEOUT_MS)),
    )
    .option('--json', 'print one JSON document to stdout (errors as {"error": {...}} on stderr)')
    .option('-q, --quiet', 'print only the id of what a command made (identity, token, state), for scripts')
    .option('--raw', "amounts in base units, in and out (default: in each token's decimals)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander's own parse errors are reported by `run` in the CLI's error format.
      outputError: () => undefined,
    });
  // Subcommands inherit exitOverride and the output configuration: every failure reaches `run`.
  registerStatus(program, io);
  registerConfig(program, io);
  registerTopology(program, io);
  registerIdentity(program, io);
  registerToken(program, io);
  registerPolicy(program, io);
  registerChain(program, io);
  registerBridgeContract(registerBridge(program, io), io);
  registerBackup(program, io);
  return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args...) and returns the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    const json = program.opts().json === true || argv.slice(2).includes('--json');
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      // A group without its subcommand: commander printed the group's help already.
      if (error.code === 'commander.help') return EXIT_USAGE;
      const message = error.message.replace(/^error: /, '');
      io.stderr.write(errorText(reportOf(new UsageError(message, { reason: error.code })), json));
      return EXIT_USAGE;
    }
    const report = reportOf(error);
    io.stderr.write(errorText(report, json));
    return report.exitCode;
  }
}
