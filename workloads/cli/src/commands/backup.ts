/**
 * `dsm backup create|restore|inspect`: a storage node's consistent archive, or a core node's or the bridge's
 * store snapshot, streamed into a file (written whole or not at all); an archive loaded into an empty storage
 * node; either kind checked offline. Admin token (--token-file). A core or bridge snapshot is restored at
 * start-up (DSM_CORE_RESTORE_FROM, DSM_BRIDGE_RESTORE_FROM), into an empty data volume.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { snapshotRoutes } from '@dsm/api';
import {
  backupFolderName,
  checkArchive,
  pruneBackups,
  writeWhole,
  type ArchiveCheck,
} from '../backup-file.js';
import { storageAdminApi } from '../client.js';
import { contextOf, type Context, type Io } from '../context.js';
import { UsageError } from '../errors.js';
import { parseInteger, parseNodeUrl } from '../options.js';

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

/** Streams one service's backup into `file` (or a name the service gives, in `dir`) and checks it. */
async function backupInto(
  ctx: Context,
  kind: 'storage' | 'core' | 'bridge',
  url: string,
  target: { file?: string; dir: string },
): Promise<{ file: string; bytes: number; check: ArchiveCheck }> {
  const api = storageAdminApi(ctx.endpoints, url);
  const response =
    kind === 'storage'
      ? await api.backup()
      : await api.http.stream('GET', snapshotRoutes.snapshot.path, { accept: 'application/vnd.ipld.car' });
  const named = /filename="([^"/]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
  const file = target.file ?? join(target.dir, named ?? `dsm-${kind}-backup.car`);
  const bytes = await writeWhole(file, response.body! as AsyncIterable<Uint8Array>);
  return { file, bytes, check: await checkArchive(file) };
}

/** `<name>-<n>` (a StatefulSet pod, e.g. `dsm-core-1.dsm-core-headless`): n; otherwise the position given. */
function ordinalOf(url: string, position: number): number {
  const host = new URL(url).hostname.split('.')[0] ?? '';
  const match = /-(\d+)$/.exec(host);
  return match ? Number(match[1]) : position;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

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
      const { file, bytes, check } = await backupInto(ctx, kind, url, {
        dir: options.dir,
        ...(options.out !== undefined ? { file: options.out } : {}),
      });
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
    .command('run')
    .description(
      'back up a whole network into one new folder of --dir (storage.car, core-<n>.car, bridge.car, backup.json), ' +
        'then keep only the newest --keep folders',
    )
    .requiredOption('--storage <node>', 'a storage node (every storage node holds everything)')
    .option('--core <node>', 'a core node (repeat for each: each holds its own hosted identities)', collect)
    .option('--bridge <node>', 'the bridge')
    .requiredOption('--dir <folder>', 'where the backup folders are kept')
    .option('--keep <count>', 'how many backup folders to keep (older ones are removed)', '7')
    .action(
      async (
        options: { storage: string; core?: string[]; bridge?: string; dir: string; keep: string },
        command: Command,
      ) => {
        const ctx = contextOf(command, io);
        const keep = parseInteger('--keep', options.keep, 1);
        const started = new Date();
        const name = backupFolderName(started);
        const partial = join(options.dir, `.partial-${name}`);
        await mkdir(partial, { recursive: true, mode: 0o700 });
        const targets: { kind: 'storage' | 'core' | 'bridge'; url: string; file: string }[] = [
          { kind: 'storage', url: parseNodeUrl('--storage', options.storage), file: 'storage.car' },
          ...(options.core ?? []).map((node, i) => {
            const url = parseNodeUrl('--core', node);
            return { kind: 'core' as const, url, file: `core-${ordinalOf(url, i)}.car` };
          }),
          ...(options.bridge !== undefined
            ? [{ kind: 'bridge' as const, url: parseNodeUrl('--bridge', options.bridge), file: 'bridge.car' }]
            : []),
        ];
        if (new Set(targets.map((t) => t.file)).size !== targets.length)
          throw new UsageError('two core nodes would write the same file: name each once');
        const files = [];
        try {
          for (const target of targets) {
            const { bytes, check } = await backupInto(ctx, target.kind, target.url, {
              file: join(partial, target.file),
              dir: partial,
            });
            files.push({ file: target.file, service: target.kind, url: target.url, bytes, root: check.root });
          }
          const summary = {
            format: 'dsm-backup-folder@1',
            createdAt: started.toISOString(),
            seconds: (Date.now() - started.getTime()) / 1000,
            files,
          };
          await writeFile(join(partial, 'backup.json'), `${JSON.stringify(summary, null, 2)}\n`, {
            mode: 0o600,
          });
          await rename(partial, join(options.dir, name));
          const removed = await pruneBackups(options.dir, keep);
          ctx.emit({ folder: join(options.dir, name), ...summary, removed }, (r) =>
            [
              `backup ${r.folder}: ${r.files.map((f) => `${f.file} (${f.bytes} bytes)`).join(', ')} in ${r.seconds.toFixed(1)} s`,
              ...(r.removed.length > 0 ? [`  removed ${r.removed.join(', ')} (keeping ${keep})`] : []),
            ].join('\n'),
          );
        } catch (e) {
          await rm(partial, { recursive: true, force: true });
          throw e;
        }
      },
    );

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
