/**
 * A one-line progress bar on a terminal (stderr), redrawn at most every `intervalMs`. Only drawn when the
 * stream is a TTY and the work is long enough to be worth watching, so pipes and logs stay clean.
 */

/** `label [=========>          ]  450/1000  45%  1.2 s`, pure. */
export function renderProgress(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
  width = 30,
): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.floor(ratio * width);
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  const count = `${String(done).padStart(String(total).length)}/${total}`;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label} [${bar}] ${count} ${percent} ${(elapsedMs / 1000).toFixed(1)} s`;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  intervalMs?: number;
  /** Below this many steps no bar is drawn. */
  minTotal?: number;
  now?: () => number;
}

export class ProgressBar {
  private readonly started: number;
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  update(done: number): void {
    const t = this.now();
    if (done < this.total && t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    this.drawn = true;
    this.stream.write(`\r${renderProgress(this.label, done, this.total, t - this.started)}\x1b[K`);
  }

  /** Ends the line so whatever is printed next starts on a fresh one. */
  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

/** A bar when `stream` is a terminal and `total` reaches `minTotal` (default 100), otherwise none. */
export function progressFor(
  stream: ProgressStream,
  label: string,
  total: number,
  options: ProgressOptions = {},
): ProgressBar | undefined {
  if (!stream.isTTY || total < (options.minTotal ?? 100)) return undefined;
  return new ProgressBar(stream, label, total, options);
}
