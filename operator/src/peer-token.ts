/**
 * A cluster's storage peer token, derived rather than read: HMAC-SHA256 under the operator's own key of
 * `peer-token/<namespace>/<name>/<uid>`, base64url. The operator creates the peer-token Secret with it and
 * authorises peer changes on running storage nodes with it, so it needs no Secret read. The uid makes a
 * cluster deleted and created again under the same name get a new token. Pure.
 */
import { createHmac } from 'node:crypto';

export interface ClusterIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export function peerTokenInput(cluster: ClusterIdentity): string {
  return `peer-token/${cluster.namespace}/${cluster.name}/${cluster.uid}`;
}

export function derivePeerToken(operatorKey: Buffer, cluster: ClusterIdentity): string {
  if (operatorKey.length === 0) throw new Error('the operator key is empty');
  return createHmac('sha256', operatorKey).update(peerTokenInput(cluster), 'utf8').digest('base64url');
}
