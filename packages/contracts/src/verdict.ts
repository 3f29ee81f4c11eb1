import { z } from 'zod';
import { parseDuration } from './duration.ts';

/*
 * One verdict per test, the same on every surface: the JSON API, the dashboard, the resource's
 * status phase, synthetic-heart's /ping and the control plane's /metrics. It is made of two parts:
 * - resultState: what the assigned agents' latest results say (no clock). The API keeps it in the
 *   test's row as results arrive (services/rollup.ts computes the same in SQL; a test checks that
 *   the two agree);
 * - testVerdict: that result state seen at a time: a test that should have reported and has not
 *   is stale.
 * Each state's rule is in the README ("Test states").
 */

export const RESULT_STATES = ['failing', 'degraded', 'pending', 'unsupported', 'skipped', 'passing'] as const;
export type ResultState = (typeof RESULT_STATES)[number];

/** Every verdict, most urgent first (the order problems are listed in). */
export const VERDICTS = [
  'failing',
  'degraded',
  'stale',
  'maintenance',
  'pending',
  'unsupported',
  'skipped',
  'passing',
] as const;
export const Verdict = z.enum(VERDICTS);
export type Verdict = z.infer<typeof Verdict>;

/** The verdicts that are problems (alerting, the overview's problem count); the rest are not. */
export const PROBLEM_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>(['failing', 'degraded', 'stale']);

/** The latest result of every assigned agent, counted by what it says. */
export type ResultCounts = {
  /** Agents the test is assigned to. */
  assigned: number;
  /** Assigned agents whose latest result passed / failed (fail, error, timeout) / was skipped / lacked the plugin. */
  passing: number;
  failing: number;
  skipped: number;
  unsupported: number;
  /** Agents the selectors pick that lack the plugin (and so are not assigned). */
  lackingPlugin: number;
};

/** A quorum: failing once this many agents fail, or this percentage of the assigned; default one. */
export type QuorumRule = { count: number | null; share: number | null };

/** Whether the failing agents reach the quorum (default: any one). */
export function quorumReached(failing: number, assigned: number, q: QuorumRule): boolean {
  if (failing <= 0) return false;
  if (q.count !== null) return failing >= q.count;
  if (q.share !== null) return failing * 100 >= q.share * assigned;
  return true;
}

/**
 * What the latest results say:
 * - `failing`: the failing agents reach the quorum;
 * - `degraded`: some agents fail, fewer than the quorum (the target is up from the others);
 * - `passing`: some agent passed and none fails;
 * - `skipped`: every result there is was skipped (dependsOn, a mesh of one);
 * - `unsupported`: no agent can run the plugin (the selected ones lack it, or every result says so);
 * - `pending`: no result anywhere yet.
 */
export function resultState(c: ResultCounts, q: QuorumRule): ResultState {
  if (quorumReached(c.failing, c.assigned, q)) return 'failing';
  if (c.failing > 0) return 'degraded';
  if (c.passing > 0) return 'passing';
  if (c.skipped > 0) return 'skipped';
  if ((c.assigned === 0 && c.lackingPlugin > 0) || c.unsupported > 0) return 'unsupported';
  return 'pending';
}

/** Cron schedules have no fixed period here: a day without a result is a problem whatever the cron. */
const CRON_ALLOWANCE_MS = 24 * 3_600_000;

/** Parsed durations by text: a fleet's tests share a handful ("1m", "30s"), read for each verdict. */
const parsed = new Map<string, number | null>();

function durationOr(text: string | null | undefined, fallback: number): number {
  if (!text) return fallback;
  let ms = parsed.get(text);
  if (ms === undefined) {
    try {
      ms = parseDuration(text);
    } catch {
      ms = null;
    }
    if (parsed.size >= 1024) parsed.clear();
    parsed.set(text, ms);
  }
  return ms ?? fallback;
}

/**
 * How long a test may go without a result before that is a problem: two periods plus a run
 * timeout, and at least `thresholdMs` (STALE_RESULT_SECONDS; kube-e2etestapp's TIME_TO_REPORT_PROBLEM).
 */
export function resultAllowanceMs(
  spec: { repeat?: string | null; schedule?: string | null; runTimeout?: string | null },
  thresholdMs: number,
): number {
  const schedule = spec.schedule?.trim();
  let period: number;
  if (schedule?.startsWith('@every ')) period = durationOr(schedule.slice(7), 60_000);
  else if (schedule) return Math.max(thresholdMs, CRON_ALLOWANCE_MS);
  else period = durationOr(spec.repeat, 60_000);
  return Math.max(thresholdMs, 2 * period + durationOr(spec.runTimeout, 10_000));
}

export type VerdictInput = {
  result: ResultState;
  /** When the newest result of any assigned agent ended (epoch ms), or null. */
  lastRunAt: number | null;
  /** When the test was declared and last changed (epoch ms). */
  createdAt: number;
  updatedAt: number;
  assigned: number;
  allowanceMs: number;
  now: number;
  /** The current or next maintenance window over the test (epoch ms), if any. */
  maintenance?: { from: number; until: number; reason: string | null } | null;
};

/**
 * Whether a maintenance span [from, until) holds `at`: the one rule for the verdict, ingest's
 * marking of runs, /metrics and the dashboard. A test without a span (nulls) holds none.
 */
export function inMaintenance(from: number | null, until: number | null, at: number): boolean {
  return from !== null && until !== null && from <= at && at < until;
}

/** 95 s → "1m 35s"; 3 days → "3d 0h". */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * The verdict at `now`, with why in words when it is stale or in maintenance. Inside an open
 * maintenance window the test is `maintenance`, whatever its results say. `failing` and `unsupported` stand as
 * they are (a failure does not turn into "no news"); any other state without a result within the
 * allowance is `stale` (never run: counted from when the test was declared or last changed).
 */
export function testVerdict(v: VerdictInput): { state: Verdict; reason: string | null } {
  const m = v.maintenance;
  if (m && inMaintenance(m.from, m.until, v.now)) {
    const until = new Date(m.until).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { state: 'maintenance', reason: `in maintenance until ${until}${m.reason ? `: ${m.reason}` : ''}` };
  }
  if (v.result === 'failing' || v.result === 'unsupported') return { state: v.result, reason: null };
  if (v.lastRunAt !== null) {
    const quiet = v.now - v.lastRunAt;
    if (quiet > v.allowanceMs) return { state: 'stale', reason: `no result for ${formatSpan(quiet)}` };
    return { state: v.result, reason: null };
  }
  const since = Math.max(v.createdAt, v.updatedAt);
  if (v.now - since > v.allowanceMs) {
    const why = v.assigned === 0 ? 'no agent runs it' : 'no result yet';
    return { state: 'stale', reason: `${why} after ${formatSpan(v.now - since)}` };
  }
  return { state: v.result, reason: null };
}

/**
 * A fleet test's verdict from its selected clusters' verdicts, with `quorum` a count or share of
 * clusters (default: every selected cluster must fail):
 * - `failing` when the failing clusters reach the quorum;
 * - `degraded` when some cluster fails or is degraded, short of that;
 * - `stale` when no cluster has a fresh result and some is stale; `pending` when none has any;
 * - `unsupported` / `skipped` when every cluster says so; `passing` otherwise.
 */
export function fleetVerdict(clusters: readonly Verdict[], quorum: QuorumRule): Verdict {
  const n = (v: Verdict) => clusters.filter((c) => c === v).length;
  if (clusters.length === 0) return 'pending';
  const failing = n('failing');
  const rule = quorum.count === null && quorum.share === null ? { count: clusters.length, share: null } : quorum;
  if (quorumReached(failing, clusters.length, rule)) return 'failing';
  if (failing > 0 || n('degraded') > 0) return 'degraded';
  if (n('passing') > 0) return 'passing';
  if (n('stale') > 0) return 'stale';
  if (n('maintenance') > 0) return 'maintenance';
  if (n('pending') > 0) return 'pending';
  if (n('skipped') > 0) return 'skipped';
  return 'unsupported';
}
