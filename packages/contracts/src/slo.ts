import { z } from 'zod';
import { parseDuration } from './duration.ts';

/*
 * Availability and SLOs, the same arithmetic for the API, the dashboard and the tests:
 * - availability over a window: runs passed / runs counted (pass, fail, error, timeout; runs in a
 *   maintenance window, skipped and unsupported runs are not counted);
 * - an SLO: an objective (percent of runs passing) over a window; its error budget is the share of
 *   runs that may fail, 1 - objective/100;
 * - budget remaining: 1 - (failed share over the SLO window) / budget (below 0: overspent), and in
 *   time: that fraction of the window's whole budget (window × budget) of total outage;
 * - burn rate over a shorter window: failed share there / budget (1 = spending exactly the
 *   budget over the SLO window; 14.4 over 1 h spends 2 % of a 30-day budget).
 */

const DAY_MS = 86_400_000;
export const MAX_SLO_WINDOW_MS = 30 * DAY_MS;

/** A window: `30d`, `7d`, or a Go duration (`6h`); between 1 h and 30 days. */
export function parseWindow(text: string): number {
  const t = text.trim();
  const days = /^(\d+)d$/.exec(t);
  return days ? Number(days[1]) * DAY_MS : parseDuration(t);
}

export const SloWindow = z.string().superRefine((value, ctx) => {
  let ms: number;
  try {
    ms = parseWindow(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `window ${(err as Error).message}; days are written "30d"` });
    return;
  }
  if (ms < 3_600_000 || ms > MAX_SLO_WINDOW_MS)
    ctx.addIssue({ code: 'custom', message: `window "${value}" must be between 1h and 30d` });
});

export const Slo = z
  .object({
    objective: z
      .number()
      .gt(0, 'objective is a percentage above 0')
      .lt(100, 'objective must be below 100 (100 % leaves no error budget)'),
    window: SloWindow.default('30d'),
  })
  .strict();
export type Slo = z.infer<typeof Slo>;

/** The windows availability is reported over, and the burn-rate windows. */
export const AVAILABILITY_WINDOWS = { '1h': 3_600_000, '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS } as const;
export type AvailabilityWindow = keyof typeof AVAILABILITY_WINDOWS;
export const BURN_WINDOWS = { '1h': 3_600_000, '6h': 6 * 3_600_000 } as const;

/**
 * Aggregate bucket sizes, smallest first, with how long each is kept: a window is summed from
 * the smallest size kept long enough, rounded out to whole buckets.
 */
export const BUCKETS = [
  { res: 0, sizeMs: 300_000, keepMs: 7 * 3_600_000 },
  { res: 1, sizeMs: 3_600_000, keepMs: 8 * DAY_MS },
  { res: 2, sizeMs: DAY_MS, keepMs: 31 * DAY_MS },
] as const;

/** The bucket size a window is summed from, and the first bucket start it includes. */
export function windowBuckets(windowMs: number, now: number): { res: number; from: number } {
  const b = BUCKETS.find((x) => windowMs + x.sizeMs <= x.keepMs) ?? BUCKETS[2];
  // Every bucket that overlaps (now - window, now].
  const from = Math.floor((now - windowMs) / b.sizeMs) * b.sizeMs;
  return { res: b.res, from };
}

export type Counted = { total: number; passed: number };

export const Availability = z.object({
  percent: z.number().nullable().describe('Runs passed / runs counted × 100; null with no run counted.'),
  total: z.number().int(),
  passed: z.number().int(),
});
export type Availability = z.infer<typeof Availability>;

export function availabilityOf(c: Counted): Availability {
  return { percent: c.total === 0 ? null : (c.passed / c.total) * 100, total: c.total, passed: c.passed };
}

export const SloStatus = z.object({
  objective: z.number(),
  window: z.string(),
  availability: Availability,
  budget: z.object({
    remaining: z
      .number()
      .nullable()
      .describe('Fraction of the error budget left (1 = untouched, below 0 = overspent); null with no run.'),
    remainingMs: z
      .number()
      .nullable()
      .describe('The same as time of total outage the window can still absorb (window × budget × remaining).'),
    totalMs: z.number().describe('The whole budget as time: window × (1 − objective/100).'),
  }),
  burnRate: z
    .record(z.string(), z.number().nullable())
    .describe('Failed share / budget over 1 h and 6 h (1 = spending exactly the budget); null with no run.'),
});
export type SloStatus = z.infer<typeof SloStatus>;

/** The SLO's status from runs counted over its window and over the burn-rate windows. */
export function sloStatus(
  slo: { objective: number; window: string },
  overWindow: Counted,
  burn: Readonly<Record<string, Counted>>,
): SloStatus {
  const budget = 1 - slo.objective / 100;
  const windowMs = parseWindow(slo.window);
  const failedShare = (c: Counted) => (c.total === 0 ? null : (c.total - c.passed) / c.total);
  const spent = failedShare(overWindow);
  const remaining = spent === null ? null : 1 - spent / budget;
  const totalMs = windowMs * budget;
  return {
    objective: slo.objective,
    window: slo.window,
    availability: availabilityOf(overWindow),
    budget: { remaining, remainingMs: remaining === null ? null : remaining * totalMs, totalMs },
    burnRate: Object.fromEntries(
      Object.entries(burn).map(([w, c]) => {
        const share = failedShare(c);
        return [w, share === null ? null : share / budget];
      }),
    ),
  };
}
