/** A RocksDB store in a fresh temporary folder, for unit tests of the parts that persist. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '@dsm/runtime';

export interface TempStore {
  store: Store;
  /** The temporary folder (the store lives in `<dir>/db`). */
  dir: string;
  /** Closes the store and deletes the folder. */
  close(): Promise<void>;
}

export async function openTempStore(prefix = 'dsm-store-'): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const store = await Store.open(join(dir, 'db'));
  return {
    store,
    dir,
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
