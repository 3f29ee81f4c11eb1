/**
 * The control plane's own `/metrics` (Prometheus text format), computed from the database at
 * scrape time: every test's verdict (the same as on every other surface), its freshness and agent
 * counts, its runs counted and failed (counters for burn-rate alerts), availability over
 * 1h/24h/7d/30d, the SLO's objective and budget left, whether it is in maintenance, agents per
 * cluster and state, and this API process's ingest and long-poll counters.
 * Cost: one narrow read of the tests, one grouped count of the agents, and one grouped sum of
 * the availability aggregates per bucket size, whatever the fleet.
 */
import {
  AVAILABILITY_WINDOWS,
  type Counted,
  formatLabels,
  inMaintenance,
  type SloStatus,
  sloStatus,
  VERDICTS,
} from '@synthfleet/contracts';
import { agents, tests } from '@synthfleet/db';
import { isNull, sql } from 'drizzle-orm';
import { countedForAll } from './availability.ts';
import type { ServiceContext } from './context.ts';
import { fleetTestViews } from './fleet-tests.ts';
import { verdictClock, verdictColumns, verdictOf } from './test-views.ts';

/** This process's counters; on Workers, one isolate's. */
export type ApiCounters = {
  runsAccepted: number;
  runsDuplicate: number;
  runsRejected: number;
  runBatches: number;
  polls: number;
  pollWakeups: number;
};

export const createCounters = (): ApiCounters => ({
  runsAccepted: 0,
  runsDuplicate: 0,
  runsRejected: 0,
  runBatches: 0,
  polls: 0,
  pollWakeups: 0,
});

class Exposition {
  private readonly parts: string[] = [];
  family(name: string, type: 'gauge' | 'counter', help: string): void {
    this.parts.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  }
  sample(name: string, l: Record<string, string>, value: number): void {
    this.parts.push(`${name}${formatLabels(l)} ${Number.isFinite(value) ? value : 'NaN'}\n`);
  }
  text(): string {
    return this.parts.join('');
  }
}

/** The key an SLO window's count goes under, beside the availability windows'. */
const sloKey = (windowMs: number) => `slo${windowMs}`;

/**
 * The counts /metrics needs for every test, from one grouped query per bucket size: the
 * availability windows, and each distinct SLO window (30d, mostly: the same daily buckets).
 */
function countedWindows(rows: readonly { sloWindowMs: number | null }[]): Record<string, number> {
  const windows: Record<string, number> = { ...AVAILABILITY_WINDOWS };
  for (const r of rows) if (r.sloWindowMs !== null) windows[sloKey(r.sloWindowMs)] = r.sloWindowMs;
  return windows;
}

/** A test's SLO status from the counts, or null without spec.slo. */
function sloFrom(
  t: { sloObjective: number | null; sloWindowMs: number | null },
  counted: Record<string, Counted> | undefined,
): SloStatus | null {
  if (t.sloObjective === null || t.sloWindowMs === null) return null;
  const c = counted?.[sloKey(t.sloWindowMs)] ?? { total: 0, passed: 0 };
  return sloStatus({ objective: t.sloObjective, window: `${t.sloWindowMs / 3_600_000}h` }, c, {});
}

export async function controlPlaneMetrics(ctx: ServiceContext): Promise<string> {
  const at = verdictClock(ctx);
  const [testRows, agentRows] = await Promise.all([
    ctx.db
      .select({
        id: tests.id,
        cluster: tests.cluster,
        namespace: tests.namespace,
        name: tests.name,
        failingAgents: tests.failingAgents,
        runsCounted: tests.runsCounted,
        runsFailed: tests.runsFailed,
        sloObjective: tests.sloObjective,
        sloWindowMs: tests.sloWindowMs,
        ...verdictColumns,
      })
      .from(tests)
      .where(isNull(tests.deletedAt)),
    ctx.db
      .select({ cluster: agents.cluster, state: agents.state, n: sql<number>`count(*)` })
      .from(agents)
      .groupBy(agents.cluster, agents.state),
  ]);
  const counted = await countedForAll(ctx, countedWindows(testRows), at.now);
  const out = new Exposition();
  const ids = testRows.map((t) => ({ cluster: t.cluster, namespace: t.namespace, test: t.name }));
  out.family('synthfleet_test_state', 'gauge', "1 for the test's current verdict, 0 for the others");
  testRows.forEach((t, i) => {
    const verdict = verdictOf(t, at).state;
    for (const state of VERDICTS) out.sample('synthfleet_test_state', { ...ids[i], state }, state === verdict ? 1 : 0);
  });
  type Row = (typeof testRows)[number];
  const perTest: { name: string; type?: 'counter'; help: string; value: (t: Row) => number | null }[] = [
    {
      name: 'synthfleet_test_last_result_age_seconds',
      help: 'seconds since the newest result of any agent',
      value: (t) => (t.lastRunAt === null ? null : Math.max(0, (at.now - t.lastRunAt) / 1000)),
    },
    {
      name: 'synthfleet_test_failing_agents',
      help: 'assigned agents whose latest result fails',
      value: (t) => t.failingAgents,
    },
    { name: 'synthfleet_test_assigned_agents', help: 'agents the test is assigned to', value: (t) => t.assignedAgents },
    {
      name: 'synthfleet_test_maintenance',
      help: '1 while a maintenance window is open over the test (alert rules leave it out), else 0',
      value: (t) => (inMaintenance(t.maintenanceFrom, t.maintenanceUntil, at.now) ? 1 : 0),
    },
    {
      name: 'synthfleet_test_slo_objective',
      help: "spec.slo's objective as a ratio of runs passing (0.999 for 99.9 %)",
      value: (t) => (t.sloObjective === null ? null : t.sloObjective / 100),
    },
    {
      name: 'synthfleet_test_error_budget_remaining',
      help: "fraction of the SLO's error budget left over its window (1 untouched, below 0 overspent)",
      value: (t) => sloFrom(t, counted.get(t.id))?.budget.remaining ?? null,
    },
    {
      name: 'synthfleet_test_runs_total',
      type: 'counter',
      help: 'runs counted for availability (outside maintenance; pass, fail, error, timeout), ever',
      value: (t) => t.runsCounted,
    },
    {
      name: 'synthfleet_test_runs_failed_total',
      type: 'counter',
      help: 'of those, runs that failed (fail, error, timeout)',
      value: (t) => t.runsFailed,
    },
  ];
  out.family(
    'synthfleet_test_availability',
    'gauge',
    'runs passed / runs counted over the window (1h, 24h, 7d, 30d), from the aggregates; absent with no run counted',
  );
  testRows.forEach((t, i) => {
    const c = counted.get(t.id);
    if (!c) return;
    for (const w of Object.keys(AVAILABILITY_WINDOWS)) {
      const x = c[w];
      if (x && x.total > 0) out.sample('synthfleet_test_availability', { ...ids[i], window: w }, x.passed / x.total);
    }
  });
  for (const f of perTest) {
    out.family(f.name, f.type ?? 'gauge', f.help);
    testRows.forEach((t, i) => {
      const v = f.value(t);
      if (v !== null) out.sample(f.name, ids[i] as Record<string, string>, v);
    });
  }
  out.family('synthfleet_cluster_agents', 'gauge', 'agents per cluster by state (live, stale)');
  const byCluster = new Map<string, { live: number; stale: number }>();
  for (const a of agentRows) {
    const c = byCluster.get(a.cluster) ?? { live: 0, stale: 0 };
    c[a.state] += a.n;
    byCluster.set(a.cluster, c);
  }
  for (const [cluster, c] of [...byCluster].sort(([x], [y]) => x.localeCompare(y))) {
    out.sample('synthfleet_cluster_agents', { cluster, state: 'live' }, c.live);
    out.sample('synthfleet_cluster_agents', { cluster, state: 'stale' }, c.stale);
  }
  out.family(
    'synthfleet_fleet_test_state',
    'gauge',
    "1 for the fleet test's verdict over its clusters, 0 for the others",
  );
  for (const f of await fleetTestViews(ctx)) {
    for (const state of VERDICTS)
      out.sample(
        'synthfleet_fleet_test_state',
        { namespace: f.namespace, test: f.name, state },
        state === f.state ? 1 : 0,
      );
  }
  const k = ctx.counters;
  out.family('synthfleet_api_runs_total', 'counter', 'runs received by this API process, by outcome');
  out.sample('synthfleet_api_runs_total', { outcome: 'accepted' }, k.runsAccepted);
  out.sample('synthfleet_api_runs_total', { outcome: 'duplicate' }, k.runsDuplicate);
  out.sample('synthfleet_api_runs_total', { outcome: 'rejected' }, k.runsRejected);
  out.family('synthfleet_api_run_batches_total', 'counter', 'result batches received by this API process');
  out.sample('synthfleet_api_run_batches_total', {}, k.runBatches);
  out.family('synthfleet_api_polls_total', 'counter', 'assignment polls answered by this API process');
  out.sample('synthfleet_api_polls_total', {}, k.polls);
  out.family('synthfleet_api_polls_held', 'gauge', 'long-polls this API process holds now');
  out.sample('synthfleet_api_polls_held', {}, ctx.hub.held());
  out.family('synthfleet_api_poll_wakeups_total', 'counter', 'held long-polls woken by an assignment change');
  out.sample('synthfleet_api_poll_wakeups_total', {}, k.pollWakeups);
  return out.text();
}
