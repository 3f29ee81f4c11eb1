import { describe, expect, it } from 'vitest';
import { pickSpan, recurringSpan, selectorPicks } from './maintenance.ts';

const at = (iso: string) => Date.parse(iso);
const MIN = 60_000;

describe('maintenance windows', () => {
  it('finds the open window of a cron, else the next one', () => {
    const nightly = { schedule: '0 2 * * *', durationMs: 60 * MIN };
    // Inside 02:00–03:00: that window.
    expect(recurringSpan(nightly, at('2026-12-02T02:30:00Z'))).toEqual({
      from: at('2026-12-02T02:00:00Z'),
      until: at('2026-12-02T03:00:00Z'),
    });
    // At its end it is closed: the next night's.
    expect(recurringSpan(nightly, at('2026-12-02T03:00:00Z'))).toEqual({
      from: at('2026-12-03T02:00:00Z'),
      until: at('2026-12-03T03:00:00Z'),
    });
    // Before it opens: tonight's.
    expect(recurringSpan(nightly, at('2026-12-02T01:59:59Z'))?.from).toBe(at('2026-12-02T02:00:00Z'));
  });

  it('reads the cron in its time zone, across a daylight-saving change', () => {
    const berlin = { schedule: '0 3 * * *', durationMs: 30 * MIN, timezone: 'Europe/Berlin' };
    // 03:00 in Berlin is 02:00 UTC in winter and 01:00 UTC in summer.
    expect(recurringSpan(berlin, at('2026-12-02T02:10:00Z'))?.from).toBe(at('2026-12-02T02:00:00Z'));
    expect(recurringSpan(berlin, at('2026-07-01T01:10:00Z'))?.from).toBe(at('2026-07-01T01:00:00Z'));
  });

  it('nothing within 31 days is nothing', () => {
    // 29 February: the next is in 2028.
    expect(recurringSpan({ schedule: '0 0 29 2 *', durationMs: MIN }, at('2026-12-02T00:00:00Z'))).toBeNull();
  });

  it('merges open windows until the last closes; else picks the one that opens first', () => {
    const now = 1000;
    expect(
      pickSpan(
        [
          { from: 500, until: 1500, reason: 'a' },
          { from: 900, until: 2500, reason: 'b' },
          { from: 3000, until: 4000, reason: 'c' },
        ],
        now,
      ),
    ).toEqual({ from: 500, until: 2500, reason: 'b' });
    expect(
      pickSpan(
        [
          { from: 5000, until: 6000, reason: 'late' },
          { from: 2000, until: 3000, reason: 'soon' },
          { from: 0, until: 1000, reason: 'over' },
        ],
        now,
      ),
    ).toEqual({ from: 2000, until: 3000, reason: 'soon' });
    expect(pickSpan([], now)).toBeNull();
  });

  it('selects by every part given: cluster, namespace, a name glob and labels', () => {
    const t = { cluster: 'edge-1', namespace: 'web', name: 'dns-internal', labels: { tier: 'db', team: 'a' } };
    const all = { cluster: null, namespace: null, name: null, labels: {} };
    expect(selectorPicks(all, t)).toBe(true);
    expect(selectorPicks({ ...all, cluster: 'edge-2' }, t)).toBe(false);
    expect(selectorPicks({ ...all, namespace: 'web', name: 'dns-*' }, t)).toBe(true);
    expect(selectorPicks({ ...all, name: 'http-*' }, t)).toBe(false);
    expect(selectorPicks({ ...all, labels: { tier: 'db' } }, t)).toBe(true);
    expect(selectorPicks({ ...all, labels: { tier: 'db', team: 'b' } }, t)).toBe(false);
  });
});
