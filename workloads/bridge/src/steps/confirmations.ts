/**
 * Confirmation depth. A block counts as one confirmation of itself, so with head H a block b has
 * H − b + 1 confirmations (ethers' convention), and the bridge acts on blocks up to H − confirmations + 1.
 */

/** The highest block with at least `confirmations` confirmations (−1 when there is none yet). */
export function finalThrough(head: number, confirmations: number): number {
  return head - confirmations + 1;
}

export function isFinal(block: number, head: number, confirmations: number): boolean {
  return block <= finalThrough(head, confirmations);
}

/**
 * The next range of blocks to scan for burns: after the cursor, up to the final block, at most `maxRange`
 * blocks; undefined when nothing new is final.
 */
export function nextScanRange(
  cursor: number,
  head: number,
  confirmations: number,
  maxRange: number,
): { from: number; to: number } | undefined {
  const from = cursor + 1;
  const to = Math.min(finalThrough(head, confirmations), from + maxRange - 1);
  return to >= from ? { from, to } : undefined;
}
