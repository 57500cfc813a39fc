/** A client that builds and signs its own chain and writes it to storage nodes over HTTP. */
import { storageRoutes } from '@dsm/api';
import { encode } from '@dsm/protocol';
import { Signer } from './signer.js';

export interface WriteAck {
  status: number;
  body: {
    id?: string;
    replicas?: string[];
    error?: { code: string; message: string; details: Record<string, unknown> };
  };
}

export async function postObject(url: string, value: unknown): Promise<WriteAck> {
  return postBytes(url, encode(value));
}

export async function postBytes(
  url: string,
  bytes: Uint8Array,
  path = storageRoutes.putObject.path,
): Promise<WriteAck> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ipld.dag-cbor' },
    body: bytes,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** A self-custody client whose objects tests send over HTTP (`postObject`); the same as `Signer`. */
export class Wallet extends Signer {}
