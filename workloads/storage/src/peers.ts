/**
 * The peers a storage node replicates with: addresses (`host:port`) from configuration, then from the admin
 * API (`add-peer`, `remove-peer`), persisted in the node's own database so a restart keeps them.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { DsmError } from '@dsm/protocol';
import { isHostPort, parseHostPort, type Logger, type Store } from '@dsm/runtime';
import { keys } from './keys.js';

/** Checks `host:port` (name, IPv4 or [IPv6]); throws E_BAD_REQUEST naming the field and value. */
export function parsePeerAddress(value: string): string {
  return parseHostPort(value, 'peer');
}

export function peerUrl(address: string): string {
  return `http://${address}`;
}

export class PeerSet {
  private constructor(
    private readonly store: Store,
    private readonly self: string,
    private addresses: string[],
  ) {}

  /**
   * Persisted peers win over configured ones (admin changes are the newest word). A persisted entry that is
   * not a valid address (written by an older version) is skipped with a warning, never fatal.
   */
  static async open(store: Store, self: string, configured: string[], logger?: Logger): Promise<PeerSet> {
    const persisted = await store.get(keys.meta('peers'));
    const list =
      persisted === null ? configured.map(parsePeerAddress) : persistedPeers(persisted, configured, logger);
    return new PeerSet(
      store,
      self,
      [...new Set(list)].filter((a) => a !== self),
    );
  }

  list(): string[] {
    return [...this.addresses];
  }

  has(address: string): boolean {
    return this.addresses.includes(address);
  }

  async add(address: string): Promise<boolean> {
    const peer = parsePeerAddress(address);
    if (peer === this.self)
      throw new DsmError('E_BAD_REQUEST', `${peer} is this node`, { field: 'peer', value: peer });
    if (this.addresses.includes(peer)) return false;
    this.addresses = [...this.addresses, peer];
    await this.persist();
    return true;
  }

  async remove(address: string): Promise<boolean> {
    const peer = parsePeerAddress(address);
    if (!this.addresses.includes(peer)) return false;
    this.addresses = this.addresses.filter((a) => a !== peer);
    await this.persist();
    return true;
  }

  private persist(): Promise<void> {
    return this.store.batch().put(keys.meta('peers'), dagCbor.encode(this.addresses)).write({ sync: true });
  }
}

/** The valid addresses of a persisted peer list; the configured ones when it is not a list at all. */
function persistedPeers(bytes: Uint8Array, configured: string[], logger: Logger | undefined): string[] {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value)) {
    logger?.warn('the persisted peer list is unreadable: using the configured peers');
    return configured.map(parsePeerAddress);
  }
  return value.flatMap((entry: unknown) => {
    if (typeof entry === 'string' && isHostPort(entry)) return [parsePeerAddress(entry)];
    logger?.warn(
      { value: String(entry).slice(0, 100) },
      'skipped a bad peer address in the persisted peer list',
    );
    return [];
  });
}
