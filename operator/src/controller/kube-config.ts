/**
 * A KubeConfig whose requests share one connection pool. client-node builds a new undici Agent for every
 * request it authenticates (`applySecurityAuthentication`), so no connection is ever reused: each request
 * pays a TLS handshake (on the apiserver's CPU as much as ours) and leaves a socket open until undici's
 * keep-alive timeout. Here the first Agent built for a given TLS identity (server, CA, client certificate
 * and key, verification settings) is kept and handed to every later request with the same identity; when
 * the files behind it change (a rotated certificate), the next request's fresh Agent becomes the pool and
 * the old one is closed once its requests end. Headers (bearer tokens, which rotate) are still applied per
 * request by client-node. Proxied clusters keep client-node's own per-request Agent.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

function material(file: string | undefined, data: string | undefined): string {
  try {
    if (file) return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
  return data ?? '';
}

export class PooledKubeConfig extends KubeConfig {
  private pool: { identity: string; dispatcher: Dispatcher } | undefined;

  /** What the Agent's TLS settings are made of; undefined when it must not be shared (a proxy). */
  tlsIdentity(): string | undefined {
    const cluster = this.getCurrentCluster();
    if (!cluster || cluster.proxyUrl) return undefined;
    const user = this.getCurrentUser();
    return JSON.stringify([
      cluster.server,
      cluster.skipTLSVerify ?? false,
      cluster.tlsServerName ?? '',
      material(cluster.caFile, cluster.caData),
      material(user?.certFile, user?.certData),
      material(user?.keyFile, user?.keyData),
    ]);
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    const identity = fresh === undefined ? undefined : this.tlsIdentity();
    if (fresh === undefined || identity === undefined) return;
    if (this.pool?.identity === identity) {
      context.setDispatcher(this.pool.dispatcher);
      // The Agent built for this request never connected: nothing to close.
      return;
    }
    const old = this.pool?.dispatcher;
    this.pool = { identity, dispatcher: fresh };
    // close() lets the requests in flight (watches included) finish first.
    if (old !== undefined) void old.close().catch(() => undefined);
  }
}
