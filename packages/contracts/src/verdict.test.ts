import { describe, expect, it } from 'vitest';
import { quorumReached, type ResultCounts, resultAllowanceMs, resultState, testVerdict, VERDICTS } from './verdict.ts';

const counts = (c: Partial<ResultCounts>): ResultCounts => ({
  assigned: 3,
  passing: 0,
  failing: 0,
  skipped: 0,
  unsupported: 0,
  lackingPlugin: 0,
  ...c,
});
const anyOne = { count: null, share: null };

describe('resultState', () => {
  it('gives every result state by its rule', () => {
    expect(resultState(counts({ passing: 3 }), anyOne)).toBe('passing');
    expect(resultState(counts({ passing: 2, failing: 1 }), anyOne)).toBe('failing');
    expect(resultState(counts({ passing: 2, failing: 1 }), { count: 2, share: null })).toBe('degraded');
    expect(resultState(counts({ passing: 1, failing: 2 }), { count: 2, share: null })).toBe('failing');
    expect(resultState(counts({ passing: 2, failing: 1 }), { count: null, share: 50 })).toBe('degraded');
    expect(resultState(counts({ passing: 1, failing: 2 }), { count: null, share: 50 })).toBe('failing');
    expect(resultState(counts({ skipped: 3 }), anyOne)).toBe('skipped');
    expect(resultState(counts({ skipped: 2, passing: 1 }), anyOne)).toBe('passing');
    expect(resultState(counts({ unsupported: 3 }), anyOne)).toBe('unsupported');
    expect(resultState(counts({ assigned: 0, lackingPlugin: 2 }), anyOne)).toBe('unsupported');
    expect(resultState(counts({}), anyOne)).toBe('pending');
    expect(resultState(counts({ assigned: 0 }), anyOne)).toBe('pending');
  });
  it('quorum: a count, a share of the assigned, or any one by default', () => {
    expect(quorumReached(0, 3, anyOne)).toBe(false);
    expect(quorumReached(1, 3, anyOne)).toBe(true);
    expect(quorumReached(2, 4, { count: null, share: 50 })).toBe(true);
    expect(quorumReached(1, 4, { count: null, share: 50 })).toBe(false);
  });
});

describe('testVerdict', () => {
  const base = { createdAt: 0, updatedAt: 0, assigned: 2, allowanceMs: 70_000 };
  it('a fresh result keeps its state; an old one is stale, in words', () => {
    for (const result of ['passing', 'degraded', 'skipped', 'pending'] as const) {
      expect(testVerdict({ ...base, result, lastRunAt: 100_000, now: 150_000 })).toEqual({
        state: result,
        reason: null,
      });
      expect(testVerdict({ ...base, result, lastRunAt: 100_000, now: 200_000 })).toEqual({
        state: 'stale',
        reason: 'no result for 1m 40s',
      });
    }
  });
  it('failing and unsupported stand whatever the time', () => {
    expect(testVerdict({ ...base, result: 'failing', lastRunAt: 0, now: 10_000_000 }).state).toBe('failing');
    expect(testVerdict({ ...base, result: 'unsupported', lastRunAt: null, now: 10_000_000 }).state).toBe('unsupported');
  });
  it('never run: pending within the allowance from its declaration, then stale saying why', () => {
    expect(testVerdict({ ...base, result: 'pending', lastRunAt: null, now: 60_000 }).state).toBe('pending');
    expect(testVerdict({ ...base, result: 'pending', lastRunAt: null, now: 80_000 })).toEqual({
      state: 'stale',
      reason: 'no result yet after 1m 20s',
    });
    expect(testVerdict({ ...base, assigned: 0, result: 'pending', lastRunAt: null, now: 80_000 }).reason).toBe(
      'no agent runs it after 1m 20s',
    );
    // A change restarts the allowance.
    expect(testVerdict({ ...base, updatedAt: 50_000, result: 'pending', lastRunAt: null, now: 80_000 }).state).toBe(
      'pending',
    );
  });
  it('lists every verdict, most urgent first', () => {
    expect(VERDICTS).toEqual([
      'failing',
      'degraded',
      'stale',
      'maintenance',
      'pending',
      'unsupported',
      'skipped',
      'passing',
    ]);
  });
  it('is maintenance inside an open window, whatever the results say, and names the window', () => {
    const base = {
      result: 'failing' as const,
      lastRunAt: 1_000_000,
      createdAt: 0,
      updatedAt: 0,
      assigned: 2,
      allowanceMs: 60_000,
    };
    const maintenance = { from: 900_000, until: 1_200_000, reason: 'router swap' };
    expect(testVerdict({ ...base, now: 1_000_000, maintenance })).toEqual({
      state: 'maintenance',
      reason: 'in maintenance until 1970-01-01T00:20:00Z: router swap',
    });
    // The window is [from, until): at its end the results speak again; before it, too.
    expect(testVerdict({ ...base, now: 1_200_000, maintenance }).state).toBe('failing');
    expect(testVerdict({ ...base, now: 899_999, maintenance }).state).toBe('failing');
  });
});

describe('resultAllowanceMs', () => {
  it('is two periods plus a run timeout, at least the threshold; a day for a cron', () => {
    expect(resultAllowanceMs({ repeat: '30s', runTimeout: '10s' }, 60_000)).toBe(70_000);
    expect(resultAllowanceMs({ repeat: '5s', runTimeout: '5s' }, 60_000)).toBe(60_000);
    expect(resultAllowanceMs({ schedule: '@every 1m', runTimeout: '10s' }, 0)).toBe(130_000);
    expect(resultAllowanceMs({ schedule: '0 * * * *' }, 0)).toBe(24 * 3_600_000);
  });
});
