/**
 * The Node.js flags the operator runs with (the image's CMD; node-flags.test.ts holds the Dockerfile to
 * them, and the benchmark runs with them). The operator keeps little data but renders every cluster's
 * objects on each reconcile: V8 would otherwise grow its heap for that churn far beyond what is live.
 *   --optimize-for-size      a smaller heap and code space, for a process whose speed is the apiserver's
 *   --max-semi-space-size=1  young-generation garbage (each render's) is collected at 1 MiB, not 16
 *   --max-old-space-size=128 the old generation's cap: 130 clusters keep about 75 MiB live
 */
export const NODE_FLAGS = [
  '--optimize-for-size',
  '--max-semi-space-size=1',
  '--max-old-space-size=128',
] as const;
