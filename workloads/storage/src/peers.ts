/**
 * The peers a storage node replicates with: addresses (`host:port`) from configuration, then from the admin
 * API (`add-peer`, `remove-peer`), persisted in the node's own database so a restart keeps them.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { DsmError } from '@dsm/protocol';
import type { Store } from '@dsm/runtime';
import { keys } from './keys.js';

const ADDRESS = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$/;

/** Checks `host:port` (name, IPv4 or [IPv6]); throws E_BAD_REQUEST naming the value. */
export function parsePeerAddress(value: string): string {
  const trimmed = value.trim();
  const port = Number(trimmed.slice(trimmed.lastIndexOf(':') + 1));
  if (!ADDRESS.test(trimmed) || port < 1 || port > 65535) {
    throw new DsmError('E_BAD_REQUEST', `peer address "${value}" must be host:port`, {
      field: 'peer',
      value,
    });
  }
  return trimmed.toLowerCase();
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

  /** Persisted peers win over configured ones (admin changes are the newest word). */
  static async open(store: Store, self: string, configured: string[]): Promise<PeerSet> {
    const persisted = await store.get(keys.meta('peers'));
    const list =
      persisted === null ? configured.map(parsePeerAddress) : (dagCbor.decode(persisted) as string[]);
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
