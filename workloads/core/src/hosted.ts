/**
 * Hosted identities: the identities whose keys this node keeps (sealed in the keystore, decrypted on first
 * use), their records, and how one is created: keys, records, genesis and the signed state 0 go into one
 * durable batch before anything leaves the node, then the chain writer finishes state 0 like any pending
 * state, so a crash at any moment leaves either nothing or an identity that finishes itself.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { randomBytes } from 'node:crypto';
import {
  DsmError,
  idOf,
  makeGenesis,
  makeGenesisState,
  signState,
  type CID,
  type CryptoBackend,
  type Genesis,
  type SignatureSuite,
  type SignedState,
} from '@dsm/protocol';
import { BoundedMap, key, keyPrefix, type Store, type WriteBatch } from '@dsm/runtime';
import type { Keystore, SecretKeys } from './keystore.js';
import type { RequestKey } from './request-keys.js';
import type { Answer } from './writer.js';

export interface HostedIdentity {
  identity: string;
  suite: SignatureSuite;
  label?: string;
  createdAt: string;
}

const KEYS = {
  hosted: (identity: CID) => key('hosted', identity.bytes),
  hostedPrefix: () => keyPrefix('hosted'),
  keystore: (identity: CID) => key('keystore', identity.bytes),
};

/** What creating an identity needs of the chain writer. */
export interface PendingWriter {
  /** Adds to `batch` the pending state 0 with its genesis (which must reach storage first) and the request's key. */
  addPending(
    batch: WriteBatch,
    identity: CID,
    signed: SignedState,
    genesis: Genesis,
    request?: RequestKey,
  ): void;
  /** Finishes the pending state 0 of an identity just written and answers; refused for good → that error. */
  finishCreated(identity: CID, genesis: Genesis, signed: SignedState): Promise<Answer>;
}

export class HostedIdentities {
  /** Decrypted keys of hosted identities (decrypted on first use; the keystore on disk stays sealed). */
  private readonly secrets = new Map<string, SecretKeys>();
  /** Identities known not to be hosted here (client-signed chains), and how many creations ran. */
  private readonly notHosted = new BoundedMap<string, true>(100_000);
  private creations = 0;

  constructor(
    private readonly db: Store,
    private readonly keystore: Keystore,
    private readonly backend: CryptoBackend,
  ) {}

  /**
   * Creates a hosted identity all at once: keys, record, genesis and the signed state 0 go into one durable
   * batch before anything leaves the node, then genesis and state 0 are written through. If the storage
   * nodes cannot take them now (503), the identity finishes itself later (`finishAllPending`); a crash at
   * any moment leaves either nothing or an identity that finishes itself. Refused for good → rolled back.
   */
  async create(
    input: { suite: SignatureSuite; label?: string },
    writer: PendingWriter,
    request?: RequestKey,
  ): Promise<Answer> {
    const keys = this.backend.keygen(input.suite);
    const kem = this.backend.kemKeygen();
    const genesis = makeGenesis({
      suite: input.suite,
      publicKey: keys.publicKey,
      kemPublicKey: kem.publicKey,
      nonce: randomBytes(32),
      ...(input.label !== undefined ? { label: input.label } : {}),
    });
    const identity = idOf(genesis);
    const record: HostedIdentity = {
      identity: identity.toString(),
      suite: input.suite,
      createdAt: new Date().toISOString(),
      ...(input.label ? { label: input.label } : {}),
    };
    const signed = signState(
      this.backend,
      input.suite,
      keys.secretKey,
      makeGenesisState(identity, Date.now()),
    );
    const batch = this.db
      .batch()
      .put(
        KEYS.keystore(identity),
        this.keystore.seal(identity, {
          suite: input.suite,
          secretKey: keys.secretKey,
          kemSecretKey: kem.secretKey,
        }),
      )
      .put(KEYS.hosted(identity), dagCbor.encode(record));
    writer.addPending(batch, identity, signed, genesis, request);
    this.creations++;
    this.notHosted.delete(identity.toString());
    await batch.write({ sync: true });
    return writer.finishCreated(identity, genesis, signed);
  }

  async hosted(): Promise<HostedIdentity[]> {
    const out: HostedIdentity[] = [];
    for await (const { value } of this.db.prefix(KEYS.hostedPrefix()))
      out.push(dagCbor.decode(value) as HostedIdentity);
    return out;
  }

  /**
   * Asked for every state written: answered from memory once known. An identity becomes hosted only by
   * `create` (which counts in `creations`), so a "no" read while no creation ran stays true.
   */
  async isHosted(identity: CID): Promise<boolean> {
    const key = identity.toString();
    if (this.secrets.has(key)) return true;
    if (this.notHosted.has(key)) return false;
    const creations = this.creations;
    const hosted = (await this.db.get(KEYS.hosted(identity))) !== null;
    if (!hosted && creations === this.creations) this.notHosted.set(key, true);
    return hosted;
  }

  /** The decrypted keys of a hosted identity; E_NOT_FOUND when this node does not host it. */
  async secretsOf(identity: CID): Promise<SecretKeys> {
    const cached = this.secrets.get(identity.toString());
    if (cached) return cached;
    const record = await this.db.get(KEYS.keystore(identity));
    if (record === null)
      throw new DsmError('E_NOT_FOUND', `identity ${identity.toString()} is not hosted by this node`, {
        identity: identity.toString(),
      });
    const keys = this.keystore.open(identity, record);
    this.secrets.set(identity.toString(), keys);
    return keys;
  }

  /** Adds to `batch` the removal of an identity's records (its state 0 was refused for good). */
  removeFrom(batch: WriteBatch, identity: CID): WriteBatch {
    return batch.delete(KEYS.keystore(identity)).delete(KEYS.hosted(identity));
  }

  /** Forgets the decrypted keys of an identity whose records were removed. */
  forget(identity: CID): void {
    this.secrets.delete(identity.toString());
  }
}
