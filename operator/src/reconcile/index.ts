/** The reconciler of DSMClusters, as the controller (main.ts) creates it. */
import type { ControllerContext, Reconciler } from '../controller/types.js';
import { Writer } from './apply.js';
import { ClusterReconciler, type ReconcilerOptions } from './reconcile.js';

export type { ReconcilerOptions, StoragePodRef } from './reconcile.js';

export function createReconciler(context: ControllerContext, options: ReconcilerOptions): Reconciler {
  return new ClusterReconciler(context, new Writer(context.kubeConfig, context.metrics), options);
}
