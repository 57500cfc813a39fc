/**
 * This core node's id: random, made once and kept in its data dir (`node-id`), so that it stays the same
 * across restarts and a node finds itself in DSM_CORE_PEERS by asking each address who it is.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@dsm/runtime';

const NODE_ID = /^[0-9a-f]{32}$/;

export async function loadNodeId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'node-id');
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (NODE_ID.test(text)) return text;
    throw new Error(`${file}: not a node id (32 hex digits); remove it to make a new one`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomBytes(16).toString('hex');
  await writeFileAtomic(file, `${id}\n`);
  return id;
}
