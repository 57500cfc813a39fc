/**
 * Which generated Secrets the reconciler knows to exist, by cluster uid and Secret name: this process
 * created them, or a create answered 409. The operator may not read Secrets (no informer, RBAC `create`
 * only), so this memory is all it knows: a converged cluster costs no create on an event-triggered
 * reconcile. A periodic resync forgets a cluster's entries first (`forget`), so a generated Secret a user
 * deleted is created again within one resync period, at the price of one create per generated Secret per
 * period, each answered 409 (nothing written). Entries of a cluster that is gone are dropped too.
 */
export class SecretMemory {
  private readonly known = new Map<string, Set<string>>();

  has(clusterUid: string, secret: string): boolean {
    return this.known.get(clusterUid)?.has(secret) ?? false;
  }

  remember(clusterUid: string, secret: string): void {
    let names = this.known.get(clusterUid);
    if (names === undefined) this.known.set(clusterUid, (names = new Set()));
    names.add(secret);
  }

  /** One Secret must be tried again (the peer token while storage refuses it). */
  forgetSecret(clusterUid: string, secret: string): void {
    this.known.get(clusterUid)?.delete(secret);
  }

  /** Everything about one cluster (a resync of it, or it is gone). */
  forget(clusterUid: string): void {
    this.known.delete(clusterUid);
  }

  /** Clusters with entries. */
  get clusters(): number {
    return this.known.size;
  }
}
