/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-node has no elector): one replica reconciles,
 * the others wait. The decision (given the Lease as read and the time: create, acquire, renew or wait) is
 * pure (`decideLease`, `leaseSpecFor`); `LeaderElector` only reads and writes. Writes carry the
 * resourceVersion read, so two replicas racing for a free Lease cannot both win: the loser gets a 409.
 *
 * Expiry is judged from the Lease's own renewTime (not from when this replica first saw it, as client-go
 * does), so a standby takes over as soon as the Lease runs out; that trusts the replicas' clocks to agree
 * within a small fraction of the lease duration (NTP on the nodes).
 */
import { randomBytes } from 'node:crypto';
import {
  ApiException,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
  type V1LeaseSpec,
} from '@kubernetes/client-node';
import type { Logger } from '@dsm/runtime/log';
import { LOG } from '../log-fields.js';
import type { OperatorMetrics } from '../metrics.js';
import { HttpMethod, rawRequest } from './raw.js';

/** What the decision needs of a Lease, times in epoch milliseconds. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions?: number;
}

export type LeaseDecision =
  | { action: 'create' }
  | { action: 'acquire' }
  | { action: 'renew' }
  | { action: 'wait'; holder: string; retryInMs: number };

/** When a held Lease runs out (epoch ms); a Lease never renewed counts from its acquire time. */
export function leaseExpiry(record: LeaseRecord): number {
  const since = record.renewTime ?? record.acquireTime ?? 0;
  return since + (record.leaseDurationSeconds ?? 0) * 1000;
}

/**
 * What `identity` should do about the Lease `record` (undefined: none exists) at `now`: take it when it is
 * free (no holder) or expired, renew it when it is ours, otherwise wait: until the next retry, or until just
 * after the Lease would run out if that is sooner, so a standby takes over without losing a retry period.
 */
export function decideLease(
  record: LeaseRecord | undefined,
  now: number,
  identity: string,
  retryPeriodMs: number,
): LeaseDecision {
  if (record === undefined) return { action: 'create' };
  const holder = record.holderIdentity ?? '';
  if (holder === identity) return { action: 'renew' };
  if (holder === '') return { action: 'acquire' };
  const expiry = leaseExpiry(record);
  if (expiry <= now) return { action: 'acquire' };
  return { action: 'wait', holder, retryInMs: Math.max(1, Math.min(retryPeriodMs, expiry - now + 1)) };
}

/** The Lease record `identity` writes for `decision` (create, acquire or renew) at `now`. */
export function leaseRecordFor(
  decision: 'create' | 'acquire' | 'renew',
  previous: LeaseRecord | undefined,
  identity: string,
  now: number,
  leaseDurationMs: number,
): LeaseRecord {
  const transitions = previous?.leaseTransitions ?? 0;
  const takenFromOther =
    decision === 'acquire' &&
    (previous?.holderIdentity ?? '') !== '' &&
    previous?.holderIdentity !== identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: decision === 'renew' ? (previous?.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: takenFromOther ? transitions + 1 : transitions,
  };
}

/** The record that hands the Lease back at once: no holder, and a 1 s duration for anyone reading it late. */
export function releasedRecord(previous: LeaseRecord | undefined, now: number): LeaseRecord {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: previous?.leaseTransitions ?? 0,
  };
}

/** Whether a leader whose last successful renew was at `lastRenew` must give up at `now`. */
export function renewDeadlinePassed(lastRenew: number, now: number, renewDeadlineMs: number): boolean {
  return now - lastRenew >= renewDeadlineMs;
}

/** `<pod name>_<random>`: unique even when a restarted pod keeps its name (StatefulSet) or two share a host. */
export function holderIdentity(podName: string, random: () => string = () => randomBytes(4).toString('hex')) {
  return `${podName}_${random()}`;
}

// ---------------------------------------------------------------------------------------------
// Lease objects <-> records

function millis(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(String(value));
  return Number.isNaN(ms) ? undefined : ms;
}

export function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: millis(spec.acquireTime),
    renewTime: millis(spec.renewTime),
    leaseTransitions: spec.leaseTransitions,
  };
}

function specOf(record: LeaseRecord): V1LeaseSpec {
  // V1MicroTime serialises with the microseconds the apiserver's MicroTime requires.
  const time = (ms: number | undefined) => (ms === undefined ? undefined : new V1MicroTime(ms));
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: time(record.acquireTime),
    renewTime: time(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

// ---------------------------------------------------------------------------------------------
// The elector

export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  metrics?: OperatorMetrics;
  /** This replica now leads: start reconciling. */
  onStartedLeading: () => void;
  /** This replica lost the Lease (renew failed past the deadline, or another holder took it): stop at once. */
  onStoppedLeading: (reason: string) => void;
  now?: () => number;
}

type Attempt = { ok: true } | { ok: false; retryInMs: number; otherHolder?: string };

export class LeaderElector {
  private leading = false;
  private stopped = false;
  /** The Lease as last read or written: its resourceVersion makes the next write conditional. */
  private lease: V1Lease | undefined;
  private lastRenew = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: LeaderElectorOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log.child({
      [LOG.component]: 'leader',
      [LOG.identity]: options.identity,
      [LOG.lease]: `${options.namespace}/${options.name}`,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until elected, then renews until stopped or leadership is lost. */
  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      this.log.error({ [LOG.err]: err }, 'leader election failed');
      this.lose('leader election failed');
    });
  }

  /**
   * Stops campaigning; a leader hands the Lease back (no holder, 1 s) so a standby takes over at once
   * instead of waiting out the lease duration.
   */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.watchdog);
    this.wake?.();
    await this.loop;
    if (!this.leading) return;
    this.leading = false;
    this.options.metrics?.isLeader.set(0);
    try {
      const lease = this.lease ?? (await this.read());
      if (lease === undefined || recordOf(lease).holderIdentity !== this.options.identity) return;
      await this.write({ ...lease, spec: specOf(releasedRecord(recordOf(lease), this.now())) }, 'update');
      this.log.info('lease released');
    } catch (err) {
      // The Lease then simply expires.
      this.log.warn({ [LOG.err]: err }, 'could not release the lease');
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.leading) {
      const attempt = await this.attempt();
      if (this.stopped) return;
      if (attempt.ok) {
        this.leading = true;
        this.lastRenew = this.now();
        this.armWatchdog();
        this.options.metrics?.isLeader.set(1);
        this.log.info('became leader');
        this.options.onStartedLeading();
      } else {
        await this.sleep(attempt.retryInMs);
      }
    }
    while (!this.stopped && this.leading) {
      await this.sleep(this.options.retryPeriodMs);
      if (this.stopped) return;
      const attempt = await this.attempt();
      if (this.stopped || !this.leading) return;
      if (attempt.ok) {
        this.lastRenew = this.now();
        this.armWatchdog();
      } else if (attempt.otherHolder !== undefined) {
        this.lose(`lease taken by ${attempt.otherHolder}`);
      } else if (renewDeadlinePassed(this.lastRenew, this.now(), this.options.renewDeadlineMs)) {
        this.lose('lease not renewed within the renew deadline');
      }
    }
  }

  /** One try to create, acquire or renew; never throws. */
  private async attempt(): Promise<Attempt> {
    const { identity, retryPeriodMs, leaseDurationMs } = this.options;
    const retry: Attempt = { ok: false, retryInMs: retryPeriodMs };
    try {
      // A leader renews from the Lease it last wrote; everyone else reads the current one first.
      const lease = this.leading && this.lease ? this.lease : await this.read();
      const previous = lease === undefined ? undefined : recordOf(lease);
      const now = this.now();
      const decision = decideLease(previous, now, identity, retryPeriodMs);
      if (decision.action === 'wait') {
        return { ok: false, retryInMs: decision.retryInMs, otherHolder: decision.holder };
      }
      const spec = specOf(leaseRecordFor(decision.action, previous, identity, now, leaseDurationMs));
      if (decision.action === 'create' || lease === undefined) {
        await this.write(
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: this.meta(), spec },
          'create',
        );
      } else {
        await this.write({ ...lease, spec }, 'update');
      }
      return { ok: true };
    } catch (err) {
      if (err instanceof ApiException && (err.code === 409 || err.code === 404)) {
        // Someone else wrote first (or the Lease went away): look again next time.
        this.lease = undefined;
        this.log.debug({ status: err.code }, 'lease changed under us');
      } else {
        this.log.warn({ [LOG.err]: err }, 'lease request failed');
      }
      return retry;
    }
  }

  private meta() {
    return { name: this.options.name, namespace: this.options.namespace };
  }

  private path(named: boolean): string {
    const { namespace, name } = this.options;
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    return named ? `${leases}/${encodeURIComponent(name)}` : leases;
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      this.lease = await rawRequest<V1Lease>(this.options.kubeConfig, HttpMethod.GET, this.path(true));
      return this.lease;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  private async write(body: V1Lease, verb: 'create' | 'update'): Promise<void> {
    this.options.metrics?.apiWrites.inc({ verb, kind: 'Lease' });
    // An update is a PUT carrying the resourceVersion last seen: it fails with 409 if anyone wrote since.
    this.lease = await rawRequest<V1Lease>(
      this.options.kubeConfig,
      verb === 'create' ? HttpMethod.POST : HttpMethod.PUT,
      this.path(verb === 'update'),
      { body },
    );
  }

  /** Fires when the renew deadline passes without a renew, even while a request hangs. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (this.leading && !this.stopped) this.lose('lease not renewed within the renew deadline');
    }, this.options.renewDeadlineMs);
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    const wasLeading = this.leading;
    this.stopped = true;
    this.leading = false;
    clearTimeout(this.watchdog);
    this.wake?.();
    this.options.metrics?.isLeader.set(0);
    this.log.error({ [LOG.reason]: reason, wasLeading }, 'leadership lost');
    this.options.onStoppedLeading(reason);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
