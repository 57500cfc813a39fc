/**
 * The World of protocol §4 answered from the storage nodes, with caches: immutable content (genesis, token
 * definitions, accepted states) by id, and verified policies in the run-time-sized LRU + TTL cache of §6.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CID,
  decodeSignedState,
  encode,
  STATE_CONTEXT,
  verifySignature,
  type SignatureBackend,
  PolicyCache,
  decodeObject,
  idOf,
  idOfBytes,
  validatePolicy,
  type DsmObject,
  type Genesis,
  type Policy,
  type State,
  type TokenDefinition,
  type ValidPolicy,
  type World,
} from '@dsm/protocol';
import { BoundedMap, writeFileAtomic } from '@dsm/runtime';
import type { StorageClient } from './storage-client.js';

export interface PolicyEntry {
  policy: Policy;
  valid?: ValidPolicy;
}

export class StorageWorld implements World {
  private readonly content = new BoundedMap<string, DsmObject>(20_000);
  private readonly creations = new BoundedMap<string, CID>(20_000);
  readonly policies: PolicyCache<Policy>;

  constructor(
    private readonly storage: StorageClient,
    policyCache: { maxSize: number; ttlSeconds: number },
    /** Verified policy documents kept on disk (`<anchor>.cbor`), so a restart does not refetch them. */
    private readonly policiesDir?: string,
  ) {
    this.policies = new PolicyCache<Policy>({ ...policyCache, now: Date.now });
  }

  /** Content behind a link, checked by id (storage recomputes it) and type, or undefined. */
  async object<T extends DsmObject>(id: CID, type: T['type']): Promise<T | undefined> {
    const key = id.toString();
    let object = this.content.get(key);
    if (object === undefined) {
      const bytes = await this.storage.get(id);
      object = bytes && verifiedContent(id, bytes);
      if (object === undefined) return undefined;
      this.content.set(key, object);
    }
    return object.type === type ? (object as T) : undefined;
  }

  genesis(identity: CID): Promise<Genesis | undefined> {
    return this.object<Genesis>(identity, 'dsm/genesis@1');
  }

  tokenDefinition(token: CID): Promise<TokenDefinition | undefined> {
    return this.object<TokenDefinition>(token, 'dsm/token@1');
  }

  async tokenCreation(token: CID): Promise<CID | undefined> {
    const cached = this.creations.get(token.toString());
    if (cached) return cached;
    const record = await this.storage.token(token);
    if (!record?.creation) return undefined;
    const creation = CID.parse(record.creation);
    this.creations.set(token.toString(), creation);
    return creation;
  }

  async policy(anchor: CID): Promise<Policy | undefined> {
    const key = anchor.toString();
    const cached = this.policies.get(key);
    if (cached) return cached;
    const policy = (await this.policyFromDisk(anchor)) ?? (await this.object<Policy>(anchor, 'dsm/policy@1'));
    if (policy) {
      this.policies.set(key, policy);
      if (this.policiesDir) await writeFileAtomic(join(this.policiesDir, `${key}.cbor`), encode(policy));
    }
    return policy;
  }

  /** A policy document from the policies volume, trusted only if it still hashes to its anchor. */
  private async policyFromDisk(anchor: CID): Promise<Policy | undefined> {
    if (!this.policiesDir) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(this.policiesDir, `${anchor.toString()}.cbor`));
    } catch {
      return undefined;
    }
    try {
      const object = decodeObject(bytes);
      return object.type === 'dsm/policy@1' && idOf(object).equals(anchor) ? object : undefined;
    } catch {
      return undefined; // a damaged file: fetch it again
    }
  }

  /** Parsed conditions are cached alongside (policies are immutable content). */
  private readonly parsed = new WeakMap<Policy, ValidPolicy>();
  validPolicy(_anchor: CID, policy: Policy): ValidPolicy {
    let valid = this.parsed.get(policy);
    if (!valid) {
      valid = validatePolicy(policy);
      this.parsed.set(policy, valid);
    }
    return valid;
  }

  async acceptedState(stateId: CID): Promise<State | undefined> {
    const key = stateId.toString();
    const cached = this.content.get(key);
    if (cached?.type === 'dsm/signed-state@1') return cached.state;
    const bytes = await this.storage.get(stateId);
    const object = bytes && verifiedContent(stateId, bytes);
    if (object?.type !== 'dsm/signed-state@1') return undefined;
    // Storage returns only accepted states by id (candidates of forks need ?evidence=true).
    this.content.set(key, object);
    return object.state;
  }

  async isForked(identity: CID): Promise<boolean> {
    return (await this.storage.head(identity))?.forked ?? false;
  }

  async conflictingState(identity: CID, n: number, stateId: CID): Promise<CID | undefined> {
    const head = await this.storage.head(identity);
    if (head === undefined || n > head.n) return undefined;
    const bytes = await this.storage.stateAt(identity, n);
    if (bytes === undefined) return undefined;
    const object = decodeObject(bytes);
    if (object.type !== 'dsm/signed-state@1') return undefined;
    const existing = idOf(object.state);
    return existing.equals(stateId) ? undefined : existing;
  }

  /**
   * Whether `bytes` are a genuine signed state of `identity` at height `claim.n` with id `claim.stateId`:
   * what a storage node must show before its claim of a head (or of fork evidence) is believed.
   */
  async proveState(
    backend: SignatureBackend,
    identity: CID,
    bytes: Uint8Array,
    claim: { n: number; stateId: string },
  ): Promise<boolean> {
    let decoded;
    try {
      decoded = decodeSignedState(bytes);
    } catch {
      return false;
    }
    const { signed, stateId } = decoded;
    if (stateId.toString() !== claim.stateId || signed.state.n !== claim.n) return false;
    if (!signed.state.identity.equals(identity)) return false;
    const genesis = await this.genesis(identity);
    if (genesis === undefined) return false;
    return verifySignature(
      backend,
      genesis.suite,
      genesis.publicKey,
      stateId.bytes,
      signed.sig,
      STATE_CONTEXT,
    );
  }

  /** Remembers content this node just wrote (saves a round trip when it is read back). */
  remember(id: CID, object: DsmObject): void {
    this.content.set(id.toString(), object);
  }
}

/**
 * Content from a storage node, trusted only if it is what the link names (§1): the recomputed id (the state
 * id for signed states) must equal it; anything else counts as missing.
 */
function verifiedContent(id: CID, bytes: Uint8Array): DsmObject | undefined {
  let object: DsmObject;
  try {
    object = decodeObject(bytes);
  } catch {
    return undefined;
  }
  const actual = object.type === 'dsm/signed-state@1' ? idOf(object.state) : idOfBytes(bytes);
  return actual.equals(id) ? object : undefined;
}
