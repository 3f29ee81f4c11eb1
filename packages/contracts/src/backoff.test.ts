import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.ts';

describe('backoff', () => {
  it('doubles up to the cap, stays within [ceiling/2, ceiling], and resets', () => {
    const hi = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    expect(Array.from({ length: 6 }, () => hi.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    const lo = createBackoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    expect(Array.from({ length: 3 }, () => lo.next())).toEqual([50, 100, 200]);
    hi.reset();
    expect(hi.next()).toBe(100);
  });

  it('never waits zero: no hot loop against a dead API', () => {
    const b = createBackoff({ random: () => 0 });
    expect(b.next()).toBeGreaterThan(0);
  });
});
