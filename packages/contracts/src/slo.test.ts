import { describe, expect, it } from 'vitest';
import { availabilityOf, parseWindow, Slo, sloStatus, windowBuckets } from './slo.ts';

const H = 3_600_000;
const D = 24 * H;

describe('SLO arithmetic (checked against hand-computed cases)', () => {
  it('99.9 % over 30 days: 10,000 runs with 4 failed leave 60 % of the budget', () => {
    // budget = 0.1 % of runs = 10 of 10,000; 4 failed spend 40 %; the whole budget as time is
    // 30 d × 0.001 = 43.2 min = 2,592,000 ms, of which 60 % = 1,555,200 ms is left.
    const s = sloStatus({ objective: 99.9, window: '30d' }, { total: 10_000, passed: 9_996 }, {});
    expect(s.availability.percent).toBeCloseTo(99.96, 10);
    expect(s.budget.remaining).toBeCloseTo(0.6, 10);
    expect(s.budget.totalMs).toBeCloseTo(2_592_000, 6);
    expect(s.budget.remainingMs).toBeCloseTo(1_555_200, 4);
  });

  it('burn rate is the failed share over the budget: 14.4 when 1.44 % fail against 99.9 %', () => {
    const s = sloStatus(
      { objective: 99.9, window: '30d' },
      { total: 1000, passed: 1000 },
      { '1h': { total: 360, passed: 360 - 5.184 }, '6h': { total: 2160, passed: 2160 - 2.16 } },
    );
    expect(s.burnRate['1h']).toBeCloseTo(14.4, 10);
    expect(s.burnRate['6h']).toBeCloseTo(1, 10);
  });

  it('an overspent budget is below zero; no run counted says nothing', () => {
    // 99 % allows 1 in 100; 3 in 100 failed: 1 - 3 = -2 (three budgets spent).
    const over = sloStatus(
      { objective: 99, window: '7d' },
      { total: 100, passed: 97 },
      { '1h': { total: 0, passed: 0 } },
    );
    expect(over.budget.remaining).toBeCloseTo(-2, 10);
    expect(over.budget.remainingMs).toBeCloseTo(-2 * 7 * D * 0.01, 4);
    expect(over.burnRate['1h']).toBeNull();
    const none = sloStatus({ objective: 99, window: '7d' }, { total: 0, passed: 0 }, {});
    expect(none.budget.remaining).toBeNull();
    expect(none.availability.percent).toBeNull();
  });

  it('availability is passed over counted', () => {
    expect(availabilityOf({ total: 8, passed: 6 })).toEqual({ percent: 75, total: 8, passed: 6 });
  });

  it('reads windows in days or Go durations, 1 h to 30 d, and refuses 100 %', () => {
    expect(parseWindow('30d')).toBe(30 * D);
    expect(parseWindow('6h')).toBe(6 * H);
    expect(Slo.safeParse({ objective: 99.9 }).data).toEqual({ objective: 99.9, window: '30d' });
    expect(Slo.safeParse({ objective: 100 }).success).toBe(false);
    expect(Slo.safeParse({ objective: 99, window: '31d' }).success).toBe(false);
    expect(Slo.safeParse({ objective: 99, window: '30m' }).success).toBe(false);
    expect(Slo.safeParse({ objective: 99, window: '2w' }).error?.issues[0]?.message).toMatch(/days are written "30d"/);
  });

  it('sums a window from the smallest bucket size kept long enough, rounded out to whole buckets', () => {
    const now = Date.UTC(2026, 11, 2, 10, 7, 30);
    // 1 h: 5-minute buckets from 09:05 (the one holding 09:07:30) on.
    expect(windowBuckets(H, now)).toEqual({ res: 0, from: Date.UTC(2026, 11, 2, 9, 5) });
    // 24 h and 7 d: hourly buckets; 30 d: daily ones.
    expect(windowBuckets(D, now)).toEqual({ res: 1, from: Date.UTC(2026, 11, 1, 10) });
    expect(windowBuckets(7 * D, now)).toEqual({ res: 1, from: Date.UTC(2026, 10, 25, 10) });
    expect(windowBuckets(30 * D, now)).toEqual({ res: 2, from: Date.UTC(2026, 10, 2) });
  });
});
