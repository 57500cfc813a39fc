/**
 * `dsm chain show|export|verify`: an identity's chain, its export as DAG-CBOR, and offline verification
 * of an export with @dsm/protocol (no node involved).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { DsmError, decodeExport, defaultBackend, verifyExport, type ChainExport } from '@dsm/protocol';
import type { Command } from 'commander';
import { contextOf, type Io } from '../context.js';
import { parseIdText, parseInteger } from '../options.js';
import {
  renderChain,
  renderExport,
  renderVerify,
  type ExportSummary,
  type VerifySummary,
} from '../output.js';
import { progressFor } from '../progress.js';

export function exportSummary(bundle: ChainExport, out: string, bytes: number): ExportSummary {
  const first = bundle.states[0]?.state.n;
  const last = bundle.states[bundle.states.length - 1]?.state.n;
  const from = first ?? (bundle.checkpoint ? bundle.checkpoint.state.state.n + 1 : 0);
  return {
    identity: bundle.identity.toString(),
    out,
    bytes,
    from,
    states: bundle.states.length,
    to: last ?? null,
  };
}

async function readExportFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new DsmError('E_NOT_FOUND', `cannot read ${file} (${reason})`, { file });
  }
}

export function registerChain(program: Command, io: Io): void {
  const chain = program.command('chain').description('chains: list, export, verify offline');

  chain
    .command('show')
    .description('the states of a chain (height and state id)')
    .argument('<identity>', 'identity id')
    .option('--from <n>', 'first height', '0')
    .option('--limit <n>', 'how many states, 1 to 10000', '100')
    .action(async (id: string, options: { from: string; limit: string }, command: Command) => {
      const identity = parseIdText('<identity>', id);
      const from = parseInteger('--from', options.from);
      const limit = parseInteger('--limit', options.limit, 1, 10_000);
      const ctx = contextOf(command, io);
      ctx.emit(await ctx.core().chain(identity, from, limit), renderChain);
    });

  chain
    .command('export')
    .description('write a verifiable export (DAG-CBOR) of the chain from height --from')
    .argument('<identity>', 'identity id')
    .option('--from <n>', 'first height (later segments carry a checkpoint)', '0')
    .requiredOption('--out <file>', 'where to write the export')
    .action(async (id: string, options: { from: string; out: string }, command: Command) => {
      const identity = parseIdText('<identity>', id);
      const from = parseInteger('--from', options.from);
      const ctx = contextOf(command, io);
      const bytes = await ctx.core().exportChain(identity, from);
      // Decoded before writing: a node answering something else than an export of this identity is an error.
      const bundle = decodeExport(bytes);
      if (bundle.identity.toString() !== identity) {
        throw new DsmError(
          'E_LINK',
          `the export returned is of ${bundle.identity.toString()}, not ${identity}`,
          {
            identity,
          },
        );
      }
      await writeFile(options.out, bytes);
      ctx.emit(exportSummary(bundle, options.out, bytes.length), renderExport);
    });

  chain
    .command('verify')
    .description('verify an export offline: signatures, links, balances, policies; exit 1 on failure')
    .argument('<file>', 'an export written by `dsm chain export`')
    .action(async (file: string, _options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const bundle = decodeExport(await readExportFile(file));
      const total = bundle.states.length;
      const bar = progressFor(ctx.io.stderr, 'verifying', total);
      let result;
      try {
        result = await verifyExport(bundle, defaultBackend, (done) => bar?.update(done));
      } finally {
        bar?.finish();
      }
      const failure = result.failure;
      const summary: VerifySummary = {
        file,
        identity: bundle.identity.toString(),
        ok: failure === undefined,
        states: total,
        verified: result.verified,
        foreignVerified: result.foreignVerified,
        head: result.checkpoint
          ? { n: result.checkpoint.state.n, stateId: result.checkpoint.stateId.toString() }
          : null,
        ...(failure
          ? {
              failure: {
                index: failure.index,
                n: failure.n ?? bundle.states[failure.index]?.state.n ?? null,
                rule: failure.rule,
                code: failure.error.code,
                message: failure.error.message,
              },
            }
          : {}),
      };
      ctx.emit(summary, renderVerify);
      if (failure) {
        const n = summary.failure?.n;
        throw new DsmError(
          failure.error.code,
          `verification failed at state ${n ?? `#${failure.index}`} (rule ${failure.rule}): ${failure.error.message}`,
          {
            ...failure.error.details,
            file,
            index: failure.index,
            rule: failure.rule,
            verified: result.verified,
          },
        );
      }
    });
}
