/**
 * How Node.js runs the operator: the image's CMD and ENV (node-flags.test.ts holds the Dockerfile to these),
 * and the benchmark and the cluster tests run it the same way. The operator keeps little data but renders
 * every cluster's objects on each reconcile, and its speed is the apiserver's, not its own: memory is
 * what these trade for (README, Performance, has the figures).
 *   --optimize-for-size        a smaller heap and code space
 *   --max-semi-space-size=1    young-generation garbage (each render's) is collected at 1 MiB, not 16
 *   --max-old-space-size=128   the old generation's cap: 130 clusters keep about 45 MiB live
 *   --heap-growing-percent=10  the heap grows by a tenth over what survived a collection, not by up to 4x
 *   --no-opt --no-maglev       no optimizing compilers: their compile jobs' memory came in bursts on
 *                              background threads, and reconciles did not get slower without them
 */
export const NODE_FLAGS = [
  '--optimize-for-size',
  '--max-semi-space-size=1',
  '--max-old-space-size=128',
  '--heap-growing-percent=10',
  '--no-opt',
  '--no-maglev',
] as const;

/** glibc makes a malloc arena per thread (up to 8 per core) and keeps what each freed: two suffice. */
export const NODE_ENV = { MALLOC_ARENA_MAX: '2' } as const;
