import { type AgentView, type ClusterView, type FleetView, VERDICTS, type Verdict } from '@synthfleet/contracts';
import { agents, clusters, tests } from '@synthfleet/db';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { visibleClusters } from './access.ts';
import { toAgentView } from './agents.ts';
import type { Principal, ServiceContext } from './context.ts';
import { scannedVerdict, scanTests } from './test-scan.ts';
import { importanceRank, summaryColumns, toTestSummary, verdictClock } from './test-views.ts';

const FAILING_LIMIT = 500;
const STALE_LIMIT = 500;

export async function listClusters(ctx: ServiceContext, principal: Principal, only?: string): Promise<ClusterView[]> {
  const scope = visibleClusters(principal, only);
  const [clusterRows, agentCounts, testCounts] = await Promise.all([
    ctx.db
      .select()
      .from(clusters)
      .where(scope === null ? undefined : eq(clusters.name, scope))
      .orderBy(clusters.name),
    ctx.db
      .select({ cluster: agents.cluster, state: agents.state, n: sql<number>`count(*)` })
      .from(agents)
      .where(scope === null ? undefined : eq(agents.cluster, scope))
      .groupBy(agents.cluster, agents.state),
    // Each test's verdict needs the clock (stale): the few columns it needs, for every test.
    scanTests(ctx, scope),
  ]);
  const none = () => Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const views = new Map<string, ClusterView>(
    clusterRows.map((c) => [
      c.name,
      {
        name: c.name,
        agentsLive: 0,
        agentsStale: 0,
        testsTotal: 0,
        testsPassing: 0,
        testsFailing: 0,
        testsPending: 0,
        tests: none(),
        labels: JSON.parse(c.labels) as Record<string, string>,
        lastResultAt: c.lastResultAt === null ? null : new Date(c.lastResultAt).toISOString(),
      },
    ]),
  );
  for (const a of agentCounts) {
    const v = views.get(a.cluster);
    if (!v) continue;
    if (a.state === 'live') v.agentsLive += a.n;
    else v.agentsStale += a.n;
  }
  const at = verdictClock(ctx);
  for (const t of testCounts) {
    const v = views.get(t.cluster);
    if (!v) continue;
    const verdict = scannedVerdict(t, at).state;
    v.testsTotal++;
    v.tests[verdict]++;
    if (verdict === 'passing') v.testsPassing++;
    else if (verdict === 'failing') v.testsFailing++;
    else if (verdict === 'pending') v.testsPending++;
  }
  return [...views.values()].sort(
    (a, b) => Number(b.testsFailing > 0) - Number(a.testsFailing > 0) || a.name.localeCompare(b.name),
  );
}

/** The fleet at a glance: every visible cluster (failing first), failing tests, stale agents. */
export async function getFleet(ctx: ServiceContext, principal: Principal, only?: string): Promise<FleetView> {
  const scope = visibleClusters(principal, only);
  const [clusterViews, failing, stale] = await Promise.all([
    listClusters(ctx, principal, only),
    // The columns a summary shows: whole rows would carry every spec and raw object too.
    ctx.db
      .select(summaryColumns)
      .from(tests)
      .where(
        and(isNull(tests.deletedAt), eq(tests.state, 'failing'), scope === null ? undefined : eq(tests.cluster, scope)),
      )
      .orderBy(importanceRank, asc(tests.failingSince), asc(tests.cluster), asc(tests.name))
      .limit(FAILING_LIMIT),
    listStaleAgents(ctx, scope, STALE_LIMIT),
  ]);
  return {
    generatedAt: new Date(ctx.clock.now()).toISOString(),
    clusters: clusterViews,
    failingTests: failing.map((row) => toTestSummary(row, verdictClock(ctx))),
    staleAgents: stale,
  };
}

/** Stale agents of one cluster (or all, for null), by cluster and node. */
export async function listStaleAgents(ctx: ServiceContext, scope: string | null, limit: number): Promise<AgentView[]> {
  const rows = await ctx.db
    .select()
    .from(agents)
    .where(and(eq(agents.state, 'stale'), scope === null ? undefined : eq(agents.cluster, scope)))
    .orderBy(asc(agents.cluster), asc(agents.node))
    .limit(limit);
  return rows.map(toAgentView);
}
