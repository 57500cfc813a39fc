/**
 * The custodial keystore: secret keys of hosted identities, encrypted at rest with AES-256-GCM under a key
 * derived (HKDF-SHA-256) from a secret read from a file. Each record has its own random nonce and is bound
 * to its identity as associated data, so a record copied onto another identity does not decrypt.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { DsmError, type CID, type SignatureSuite } from '@dsm/protocol';

export interface SecretKeys {
  suite: SignatureSuite;
  secretKey: Uint8Array;
  kemSecretKey: Uint8Array;
}

const INFO = Buffer.from('dsm/keystore@1');

export class Keystore {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (secret.length < 16)
      throw new DsmError('E_CONFIG', 'the keystore key must be at least 16 characters', {
        key: 'keystoreKeyFile',
      });
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), INFO, 32));
  }

  seal(identity: CID, keys: SecretKeys): Uint8Array {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(identity.bytes);
    const plain = dagCbor.encode({
      suite: keys.suite,
      secretKey: keys.secretKey,
      kemSecretKey: keys.kemSecretKey,
    });
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return dagCbor.encode({ v: 1, nonce, sealed, tag: cipher.getAuthTag() });
  }

  open(identity: CID, record: Uint8Array): SecretKeys {
    try {
      const { nonce, sealed, tag } = dagCbor.decode(record) as {
        nonce: Uint8Array;
        sealed: Uint8Array;
        tag: Uint8Array;
      };
      const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
      decipher.setAAD(identity.bytes);
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(sealed), decipher.final()]);
      return dagCbor.decode(plain) as SecretKeys;
    } catch {
      throw new DsmError(
        'E_INTERNAL',
        `the keystore record of ${identity.toString()} does not decrypt: wrong keystore key?`,
        {
          identity: identity.toString(),
        },
      );
    }
  }
}
