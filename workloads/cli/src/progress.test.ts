import { describe, expect, it } from '@jest/globals';
import { ProgressBar, progressFor, renderProgress } from './progress.js';

describe('renderProgress', () => {
  it('draws the bar, the count, the percentage and the time', () => {
    expect(renderProgress('verifying', 0, 200, 0, 10)).toBe('verifying [>         ]   0/200   0% 0.0 s');
    expect(renderProgress('verifying', 100, 200, 1500, 10)).toBe('verifying [=====>    ] 100/200  50% 1.5 s');
    expect(renderProgress('verifying', 200, 200, 2000, 10)).toBe('verifying [==========] 200/200 100% 2.0 s');
  });

  it('clamps and survives an empty total', () => {
    expect(renderProgress('x', 5, 0, 0, 4)).toBe('x [====] 5/0 100% 0.0 s');
    expect(renderProgress('x', 9, 4, 0, 4)).toContain('[====]');
  });
});

describe('ProgressBar', () => {
  it('redraws at most every interval, always at the end, and ends the line', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar({ write: (s) => out.push(s) }, 'v', 3, { intervalMs: 100, now: () => t });
    bar.update(1);
    t = 50;
    bar.update(2); // too soon
    t = 60;
    bar.update(3); // the end is always drawn
    bar.finish();
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\rv \[.*\] 1\/3 /);
    expect(out[1]).toMatch(/3\/3 100%/);
    expect(out[2]).toBe('\n');
  });

  it('is only drawn on a terminal for long work', () => {
    const tty = { write: () => true, isTTY: true };
    expect(progressFor(tty, 'v', 500)).toBeInstanceOf(ProgressBar);
    expect(progressFor(tty, 'v', 10)).toBeUndefined();
    expect(progressFor({ write: () => true }, 'v', 500)).toBeUndefined();
    expect(progressFor(tty, 'v', 10, { minTotal: 5 })).toBeInstanceOf(ProgressBar);
  });

  it('writes nothing on finish when nothing was drawn', () => {
    const out: string[] = [];
    new ProgressBar({ write: (s) => out.push(s) }, 'v', 3).finish();
    expect(out).toEqual([]);
  });
});
