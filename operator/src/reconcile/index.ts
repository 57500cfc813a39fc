import type { ControllerContext, Reconciler } from '../controller/types.js';

export function createReconciler(_context: ControllerContext): Reconciler {
  throw new Error('reconciler not built');
}
