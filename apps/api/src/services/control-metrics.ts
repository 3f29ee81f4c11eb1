/**
 * The control plane's own `/metrics` (Prometheus text format), computed from the database at
 * scrape time: every test's verdict (the same as on every other surface), its freshness and agent
 * counts, agents per cluster and state, and this API process's ingest and long-poll counters.
 * Cost: one narrow read of the tests and one grouped count of the agents, whatever the fleet.
 */
import { VERDICTS } from '@synthfleet/contracts';
import { agents, tests } from '@synthfleet/db';
import { isNull, sql } from 'drizzle-orm';
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

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

class Exposition {
  private readonly parts: string[] = [];
  family(name: string, type: 'gauge' | 'counter', help: string): void {
    this.parts.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
  }
  sample(name: string, l: Record<string, string>, value: number): void {
    this.parts.push(`${name}${labels(l)} ${Number.isFinite(value) ? value : 'NaN'}\n`);
  }
  text(): string {
    return this.parts.join('');
  }
}

export async function controlPlaneMetrics(ctx: ServiceContext): Promise<string> {
  const at = verdictClock(ctx);
  const [testRows, agentRows] = await Promise.all([
    ctx.db
      .select({
        cluster: tests.cluster,
        namespace: tests.namespace,
        name: tests.name,
        failingAgents: tests.failingAgents,
        ...verdictColumns,
      })
      .from(tests)
      .where(isNull(tests.deletedAt)),
    ctx.db
      .select({ cluster: agents.cluster, state: agents.state, n: sql<number>`count(*)` })
      .from(agents)
      .groupBy(agents.cluster, agents.state),
  ]);
  const out = new Exposition();
  const ids = testRows.map((t) => ({ cluster: t.cluster, namespace: t.namespace, test: t.name }));
  out.family('synthfleet_test_state', 'gauge', "1 for the test's current verdict, 0 for the others");
  testRows.forEach((t, i) => {
    const verdict = verdictOf(t, at).state;
    for (const state of VERDICTS) out.sample('synthfleet_test_state', { ...ids[i], state }, state === verdict ? 1 : 0);
  });
  type Row = (typeof testRows)[number];
  const perTest: { name: string; help: string; value: (t: Row) => number | null }[] = [
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
  ];
  for (const f of perTest) {
    out.family(f.name, 'gauge', f.help);
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
