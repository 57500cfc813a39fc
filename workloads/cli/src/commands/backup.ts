/**
 * `dsm backup create|restore|inspect`: a storage node's consistent snapshot as a CAR archive on disk, loaded
 * into an empty node, or checked offline. Admin token (--token-file).
 */
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { checkArchive, writeWhole } from '../backup-file.js';
import { storageAdminApi } from '../client.js';
import { contextOf, type Io } from '../context.js';
import { parseNodeUrl } from '../options.js';

/** A restore verifies every object: allow it an hour before the node must have answered. */
const RESTORE_TIMEOUT_MS = 3_600_000;

export function registerBackup(program: Command, io: Io): void {
  const backup = program
    .command('backup')
    .description(
      'back up a storage node to a CAR archive, restore one into an empty node, check one (admin token)',
    );

  backup
    .command('create')
    .description('stream a consistent snapshot of a storage node into a file (written whole or not at all)')
    .requiredOption('--storage <node>', 'the storage node (host:port or URL of its port)')
    .option('--out <file>', 'where to write it (default: the name the node gives, in the current folder)')
    .option('--dir <folder>', 'folder for the default name', '.')
    .action(async (options: { storage: string; out?: string; dir: string }, command: Command) => {
      const ctx = contextOf(command, io);
      const url = parseNodeUrl('--storage', options.storage);
      const started = performance.now();
      const response = await storageAdminApi(ctx.endpoints, url).backup();
      const named = /filename="([^"/]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
      const file = options.out ?? join(options.dir, named ?? 'dsm-storage-backup.car');
      const bytes = await writeWhole(file, response.body! as AsyncIterable<Uint8Array>);
      const { manifest, root } = await checkArchive(file);
      const seconds = (performance.now() - started) / 1000;
      ctx.emit({ file, bytes, seconds, root, ...manifest }, (r) =>
        [
          `backup of ${r.nodeId} at ${r.createdAt} written to ${r.file}`,
          `  ${r.counts.objects} objects, ${r.counts.evidence} fork candidates, ${r.counts.identities} identities, ${r.counts.tokens} tokens`,
          `  ${r.bytes} bytes in ${r.seconds.toFixed(1)} s; root ${r.root}; digest ${r.digest}`,
        ].join('\n'),
      );
    });

  backup
    .command('restore')
    .description(
      'load an archive into an empty storage node, which verifies every object; refused whole or loaded whole',
    )
    .requiredOption('--storage <node>', 'the empty storage node (host:port or URL of its port)')
    .argument('<file>', 'the archive (dsm backup create)')
    .action(async (file: string, options: { storage: string }, command: Command) => {
      const ctx = contextOf(command, io);
      const url = parseNodeUrl('--storage', options.storage);
      // Checked here first, so a damaged file is named before the node is asked to load it.
      await checkArchive(file);
      const report = await storageAdminApi(ctx.endpoints, url).restore(createReadStream(file), {
        timeoutMs: RESTORE_TIMEOUT_MS,
      });
      ctx.emit({ file, ...report }, (r) =>
        [
          `restored ${basename(r.file)} (backup of ${r.nodeId} at ${r.createdAt}) into ${url}`,
          `  ${r.counts.objects} objects, ${r.counts.evidence} fork candidates, ${r.counts.identities} identities, ${r.counts.tokens} tokens`,
          `  ${r.bytes} bytes in ${r.seconds.toFixed(1)} s; the node now catches up from its peers`,
        ].join('\n'),
      );
    });

  backup
    .command('inspect')
    .description('check an archive offline (every block against its id, the counts) and print its manifest')
    .argument('<file>', 'the archive')
    .action(async (file: string, _options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const { manifest, root, blocks } = await checkArchive(file);
      ctx.emit({ file, root, blocks, ...manifest }, (r) =>
        [
          `${r.file}: backup of ${r.nodeId} at ${r.createdAt}, ${r.blocks} blocks, every one matching its id`,
          `  ${r.counts.objects} objects, ${r.counts.evidence} fork candidates, ${r.counts.identities} identities, ${r.counts.tokens} tokens, ${r.counts.forked} forked`,
          `  root ${r.root}; digest ${r.digest}`,
        ].join('\n'),
      );
    });
}
