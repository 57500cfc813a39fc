/**
 * `dsm backup create|restore|inspect`: a storage node's consistent archive, or a core node's or the bridge's
 * store snapshot, streamed into a file (written whole or not at all); an archive loaded into an empty storage
 * node; either kind checked offline. Admin token (--token-file). A core or bridge snapshot is restored at
 * start-up (DSM_CORE_RESTORE_FROM, DSM_BRIDGE_RESTORE_FROM), into an empty data volume.
 */
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { snapshotRoutes } from '@dsm/api';
import { checkArchive, writeWhole, type ArchiveCheck } from '../backup-file.js';
import { storageAdminApi } from '../client.js';
import { contextOf, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { parseNodeUrl } from '../options.js';

/** A restore verifies every object: allow it an hour before the node must have answered. */
const RESTORE_TIMEOUT_MS = 3_600_000;

interface Source {
  storage?: string;
  core?: string;
  bridge?: string;
}

/** The one service named, and the URL of the port that serves its backup. */
function sourceOf(options: Source): { kind: 'storage' | 'core' | 'bridge'; url: string } {
  const given = (['storage', 'core', 'bridge'] as const).filter((k) => options[k] !== undefined);
  if (given.length !== 1) throw new UsageError('name exactly one of --storage, --core or --bridge');
  const kind = given[0]!;
  return { kind, url: parseNodeUrl(`--${kind}`, options[kind]!) };
}

function describe(check: ArchiveCheck): string[] {
  if (check.kind === 'snapshot') {
    const m = check.manifest;
    return [`  ${m.service} store snapshot: ${m.entries} entries, ${m.bytes} bytes of keys and values`];
  }
  const c = check.manifest.counts;
  return [
    `  ${c.objects} objects, ${c.evidence} fork candidates, ${c.identities} identities, ${c.tokens} tokens, ${c.forked} forked`,
    `  digest ${check.manifest.digest}`,
  ];
}

export function registerBackup(program: Command, io: Io): void {
  const backup = program
    .command('backup')
    .description(
      'back up a storage node, a core node or the bridge; restore into an empty storage node; check a file (admin token)',
    );

  backup
    .command('create')
    .description('stream a consistent backup into a file (written whole or not at all)')
    .option('--storage <node>', 'a storage node (host:port or URL of its port): its objects as a CAR archive')
    .option('--core <node>', "a core node's P2P/admin port: its database (keystore still encrypted)")
    .option('--bridge <node>', "the bridge's port: its database (steps, cursors, records)")
    .option('--out <file>', 'where to write it (default: the name the service gives, in --dir)')
    .option('--dir <folder>', 'folder for the default name', '.')
    .action(async (options: Source & { out?: string; dir: string }, command: Command) => {
      const ctx = contextOf(command, io);
      const { kind, url } = sourceOf(options);
      const started = performance.now();
      const api = storageAdminApi(ctx.endpoints, url);
      const response =
        kind === 'storage'
          ? await api.backup()
          : await api.http.stream('GET', snapshotRoutes.snapshot.path, {
              accept: 'application/vnd.ipld.car',
            });
      const named = /filename="([^"/]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
      const file = options.out ?? join(options.dir, named ?? `dsm-${kind}-backup.car`);
      const bytes = await writeWhole(file, response.body! as AsyncIterable<Uint8Array>);
      const check = await checkArchive(file);
      const seconds = (performance.now() - started) / 1000;
      ctx.emit({ file, bytes, seconds, kind: check.kind, root: check.root, ...check.manifest }, (r) =>
        [
          `backup of ${r.nodeId} at ${r.createdAt} written to ${r.file}: ${r.bytes} bytes in ${r.seconds.toFixed(1)} s`,
          ...describe(check),
          `  root ${r.root}`,
        ].join('\n'),
      );
    });

  backup
    .command('restore')
    .description(
      'load a storage archive into an empty storage node, which verifies every object; refused whole or loaded whole',
    )
    .requiredOption('--storage <node>', 'the empty storage node (host:port or URL of its port)')
    .argument('<file>', 'the archive (dsm backup create --storage)')
    .action(async (file: string, options: { storage: string }, command: Command) => {
      const ctx = contextOf(command, io);
      const url = parseNodeUrl('--storage', options.storage);
      // Checked here first, so a damaged file is named before the node is asked to load it.
      const check = await checkArchive(file);
      if (check.kind !== 'storage')
        throw new UsageError(
          `${file} is a ${check.manifest.service} snapshot: restore it at start-up (DSM_CORE_RESTORE_FROM or DSM_BRIDGE_RESTORE_FROM)`,
        );
      const report = await storageAdminApi(ctx.endpoints, url).restore(createReadStream(file), {
        timeoutMs: RESTORE_TIMEOUT_MS,
      });
      ctx.emit({ file, ...report }, (r) =>
        [
          `restored ${basename(r.file)} (backup of ${r.nodeId} at ${r.createdAt}) into ${url}`,
          ...describe(check),
          `  ${r.bytes} bytes in ${r.seconds.toFixed(1)} s; the node now catches up from its peers`,
        ].join('\n'),
      );
    });

  backup
    .command('inspect')
    .description('check a backup offline (every block against its id, the counts) and print its manifest')
    .argument('<file>', 'the archive or snapshot')
    .action(async (file: string, _options: object, command: Command) => {
      const ctx = contextOf(command, io);
      const check = await checkArchive(file);
      ctx.emit({ file, kind: check.kind, root: check.root, blocks: check.blocks, ...check.manifest }, (r) =>
        [
          `${r.file}: backup of ${r.nodeId} at ${r.createdAt}, ${r.blocks} blocks, every one matching its id`,
          ...describe(check),
          `  root ${r.root}`,
        ].join('\n'),
      );
    });
}
