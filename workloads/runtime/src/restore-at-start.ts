/**
 * Start-up restore of a service's store (DSM_CORE_RESTORE_FROM, DSM_BRIDGE_RESTORE_FROM): a restore cut
 * short by a crash is discarded first; then, into an empty data volume only, the snapshot file is loaded
 * before the service reads its store. A volume that holds data is left as it is (a restarted node keeps
 * what it has), so the setting can stay in place.
 */
import { createReadStream, existsSync } from 'node:fs';
import { DsmError } from '@dsm/protocol';
import type { Logger } from './log.js';
import { discardUnfinishedRestore, isEmptyStore, restoreStoreSnapshot } from './store-snapshot.js';
import type { Store } from './store.js';

export async function prepareStore(
  store: Store,
  options: { service: string; restoreFrom?: string | undefined; logger: Logger },
): Promise<void> {
  if (await discardUnfinishedRestore(store))
    options.logger.warn('discarded a restore cut short by a stop: the data volume is empty again');
  const file = options.restoreFrom;
  if (file === undefined) return;
  if (!(await isEmptyStore(store))) {
    options.logger.info({ file }, 'restoreFrom ignored: the data volume already holds data');
    return;
  }
  if (!existsSync(file))
    throw new DsmError('E_CONFIG', `restoreFrom: ${file} does not exist (a backup file the node can read)`, {
      field: 'restoreFrom',
    });
  const started = performance.now();
  const manifest = await restoreStoreSnapshot(store, createReadStream(file), { service: options.service });
  options.logger.info(
    {
      file,
      nodeId: manifest.nodeId,
      createdAt: manifest.createdAt,
      entries: manifest.entries,
      seconds: (performance.now() - started) / 1000,
    },
    'snapshot restored',
  );
}
