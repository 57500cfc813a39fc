/**
 * How this node calls one peer. Every answer is read with a byte limit fitting what was asked for, requests
 * made for client writes are capped per peer (a peer that never answers holds a bounded number of sockets;
 * beyond the cap a push fails at once and catch-up brings the object later), and the peer token, when
 * configured, goes with every request.
 */
import { encodeObjectList, pathOf, PushResults, storageRoutes as R } from '@dsm/api';
import { DsmError, type CID, type ErrorDetails } from '@dsm/protocol';
import { HttpClient } from '@dsm/runtime';
import { limitedFetch } from '@dsm/runtime';
import { BUCKET_RESPONSE_BYTES, LIMITS, logResponseBytes } from './limits.js';
import { misbehaving } from './peer-data.js';
import { peerUrl } from './peers.js';

/** Names the pushing node, so that a receiver lacking a dependency knows whom to pull from. */
export const PEER_HEADER = 'x-dsm-peer';

export interface PeerClientOptions {
  /** This node's advertised address. */
  self: string;
  timeoutMs: number;
  maxObjectBytes: number;
  /** The shared peer token, sent as `Authorization: Bearer`. */
  token?: string;
}

export class PeerClient {
  private writesInFlight = 0;

  constructor(
    readonly address: string,
    private readonly options: PeerClientOptions,
  ) {}

  /** Hands `bytes` to the peer's ingest; resolves once the peer holds it on disk. */
  push(bytes: Uint8Array): Promise<void> {
    return this.forWrite(async () => {
      await this.http(LIMITS.smallResponseBytes).postBytes(R.push.path, bytes, {
        idempotent: true,
      });
    });
  }

  /**
   * Hands many objects to the peer's ingest in one request, in order: per object, true once the peer holds
   * it on disk, or the error it refused it with. An answer of the wrong shape or length is misbehaving.
   */
  pushMany(list: readonly Uint8Array[]): Promise<(true | DsmError)[]> {
    return this.forWrite(async () => {
      const answer = await this.http(LIMITS.smallResponseBytes + list.length * LIMITS.resultBytes).postBytes(
        R.pushMany.path,
        encodeObjectList(list),
        { idempotent: true },
      );
      const parsed = PushResults.safeParse(answer);
      if (!parsed.success || parsed.data.results.length !== list.length)
        throw misbehaving(this.address, `it answered a push of ${list.length} objects with another shape`);
      return parsed.data.results.map((r) =>
        'held' in r ? true : new DsmError(r.error.code, r.error.message, r.error.details as ErrorDetails),
      );
    });
  }

  /** An object (or fork candidate) the peer named while refusing a write. */
  evidence(id: CID): Promise<Uint8Array> {
    return this.forWrite(() => this.object(id));
  }

  /** An accepted object or fork candidate by id; anything over this node's object limit is E_TOO_LARGE. */
  object(id: CID): Promise<Uint8Array> {
    return this.http(this.options.maxObjectBytes).getBytes(pathOf(R.object, { id: id.toString() }), {
      query: { evidence: 'true' },
    });
  }

  log(after: bigint, limit: number): Promise<Uint8Array> {
    return this.http(logResponseBytes(limit, this.options.maxObjectBytes)).getBytes(R.log.path, {
      query: { after: after.toString(), limit },
    });
  }

  digest(): Promise<unknown> {
    return this.http(LIMITS.smallResponseBytes).get(R.digest.path);
  }

  bucket(bucket: number): Promise<unknown> {
    return this.http(BUCKET_RESPONSE_BYTES).get(pathOf(R.bucket, { bucket }));
  }

  private async forWrite<T>(work: () => Promise<T>): Promise<T> {
    if (this.writesInFlight >= LIMITS.writesInFlightPerPeer) {
      throw new DsmError(
        'E_UNAVAILABLE',
        `${this.address} has ${this.writesInFlight} requests in flight already; not waiting for it`,
        { peer: this.address, inFlight: this.writesInFlight },
      );
    }
    this.writesInFlight++;
    try {
      return await work();
    } finally {
      this.writesInFlight--;
    }
  }

  private http(maxBytes: number): HttpClient {
    return new HttpClient({
      baseUrl: peerUrl(this.address),
      timeoutMs: this.options.timeoutMs,
      retries: 1,
      headers: { [PEER_HEADER]: this.options.self },
      ...(this.options.token !== undefined ? { token: this.options.token } : {}),
      fetch: limitedFetch(maxBytes),
    });
  }
}
