/**
 * Whether a pass moved anything forward (a state accepted, a mint sent or final, a burn recorded): the loop
 * then runs the next pass at once instead of waiting for the poll interval, so a deposit's steps follow each
 * other without a poll between them. A pass that only failed or waited marks nothing.
 */
export class Progress {
  private count = 0;

  mark(): void {
    this.count += 1;
  }

  get marks(): number {
    return this.count;
  }
}
