import { describe, expect, it } from 'vitest';
import { createManualClock } from './clock.ts';
import { quota, RateLimiter } from './rate-limit.ts';

describe('rate limiter', () => {
  it('takes up to the burst at once, then refills at the rate, and says when to come back', () => {
    const clock = createManualClock(0);
    const limiter = new RateLimiter(clock);
    const q = quota(60, 'minute');
    for (let i = 0; i < 60; i++) expect(limiter.take('a', 1, q)).toBe(0);
    expect(limiter.take('a', 1, q)).toBe(1000);
    expect(limiter.take('b', 1, q)).toBe(0);
    clock.advance(999);
    expect(limiter.take('a', 1, q)).toBe(1);
    clock.advance(1);
    expect(limiter.take('a', 1, q)).toBe(0);
    expect(limiter.take('a', 5, q)).toBe(5000);
  });

  it('lets a cost above the burst through once the bucket is full, so a batch is slowed and never refused forever', () => {
    const clock = createManualClock(0);
    const limiter = new RateLimiter(clock);
    const q = quota(10, 'second');
    expect(limiter.take('a', 25, q)).toBe(0);
    expect(limiter.take('a', 25, q)).toBe(2500);
    clock.advance(2500);
    expect(limiter.take('a', 25, q)).toBe(0);
  });

  it('is off for a limit of 0 and bounds the keys it keeps', () => {
    const clock = createManualClock(0);
    const limiter = new RateLimiter(clock, 100);
    expect(quota(0, 'second')).toBeUndefined();
    expect(limiter.take('a', 1_000_000, undefined)).toBe(0);
    const q = quota(1, 'minute');
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`, 1, q);
    expect((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size).toBeLessThanOrEqual(100);
    // The newest keys are kept with their state.
    expect(limiter.take('k999', 1, q)).toBeGreaterThan(0);
  });
});
