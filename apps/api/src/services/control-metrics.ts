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
import { timingColumns, verdictClock, verdictOf } from './test-views.ts';

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
        state: tests.state,
        lastRunAt: tests.lastRunAt,
        createdAt: tests.createdAt,
        updatedAt: tests.updatedAt,
        assignedAgents: tests.assignedAgents,
        failingAgents: tests.failingAgents,
        ...timingColumns,
      })
      .from(tests)
      .where(isNull(tests.deletedAt)),
    ctx.db
      .select({ cluster: agents.cluster, state: agents.state, n: sql<number>`count(*)` })
      .from(agents)
      .groupBy(agents.cluster, agents.state),
  ]);
  const out = new Exposition();
  out.family('synthfleet_test_state', 'gauge', "1 for the test's current verdict, 0 for the others");
  for (const t of testRows) {
    const verdict = verdictOf(t, at).state;
    const id = { cluster: t.cluster, namespace: t.namespace, test: t.name };
    for (const state of VERDICTS) out.sample('synthfleet_test_state', { ...id, state }, state === verdict ? 1 : 0);
  }
  out.family('synthfleet_test_last_result_age_seconds', 'gauge', 'seconds since the newest result of any agent');
  for (const t of testRows) {
    if (t.lastRunAt === null) continue;
    out.sample(
      'synthfleet_test_last_result_age_seconds',
      { cluster: t.cluster, namespace: t.namespace, test: t.name },
      Math.max(0, (at.now - t.lastRunAt) / 1000),
    );
  }
  out.family('synthfleet_test_failing_agents', 'gauge', 'assigned agents whose latest result fails');
  for (const t of testRows)
    out.sample(
      'synthfleet_test_failing_agents',
      { cluster: t.cluster, namespace: t.namespace, test: t.name },
      t.failingAgents,
    );
  out.family('synthfleet_test_assigned_agents', 'gauge', 'agents the test is assigned to');
  for (const t of testRows)
    out.sample(
      'synthfleet_test_assigned_agents',
      { cluster: t.cluster, namespace: t.namespace, test: t.name },
      t.assignedAgents,
    );
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
