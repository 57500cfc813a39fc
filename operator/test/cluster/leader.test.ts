/**
 * Leader election between two real operator processes (operator/dist/main.js) on a real apiserver: one
 * holds the Lease, the standby takes it within the lease duration when the leader is SIGKILLed, and at
 * once when the leader is stopped with SIGTERM (it hands the Lease back).
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  shortLeaseEnv,
  startOperator as start,
  type OperatorProcess as Operator,
} from './operator-process.js';
import { deleteNamespace, freshNamespace, kubeConfig, waitFor } from '../../../e2e/cluster/kube.js';

const LEASE = 'dsm-operator-test';
const LEASE_MS = 6000;

let namespace: string;
const children: ChildProcess[] = [];

async function startOperator(name: string): Promise<Operator> {
  const operator = await start(name, shortLeaseEnv(namespace, LEASE, LEASE_MS));
  children.push(operator.child);
  return operator;
}

async function holder(): Promise<string | undefined> {
  const lease = await kubeConfig()
    .makeApiClient(k8s.CoordinationV1Api)
    .readNamespacedLease({ name: LEASE, namespace })
    .catch(() => undefined);
  return lease?.spec?.holderIdentity;
}

const heldBy = (op: Operator) => async () => (await holder())?.startsWith(`${op.name}_`) === true;

beforeAll(async () => {
  namespace = await freshNamespace('leader');
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await deleteNamespace(namespace);
});

describe('leader election between two operator processes', () => {
  it('one holds the Lease; SIGKILL of the leader → the standby takes it within the lease duration; SIGTERM → released at once', async () => {
    const a = await startOperator('op-a');
    await waitFor(`op-a to hold the Lease (output: ${a.output()})`, heldBy(a), 30_000, 100);
    const b = await startOperator('op-b');
    // The standby is alive and ready (a standby must not be restarted by its probes), and does not take over.
    await waitFor('the standby to answer /readyz', async () => {
      const res = await fetch(`http://127.0.0.1:${b.healthPort}/readyz`);
      return res.status === 200;
    });
    expect((await fetch(`http://127.0.0.1:${b.healthPort}/healthz`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await heldBy(a)()).toBe(true);

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await waitFor('op-b to take the Lease', heldBy(b), LEASE_MS + 5000, 50);
    const takeover = Date.now() - killedAt;
    // The Lease was last renewed before the kill, so it ran out within LEASE_MS of it (+ polling slack).
    expect(takeover).toBeLessThanOrEqual(LEASE_MS + 300);

    const c = await startOperator('op-c');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await heldBy(b)()).toBe(true);
    const stoppedAt = Date.now();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    // Released (no holder) on the way out: the standby needs one retry period, not a lease duration.
    await waitFor('op-c to take the released Lease', heldBy(c), LEASE_MS, 50);
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_MS / 2);
    expect(b.output()).toContain('lease released');
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
  });
});
