import type { AgentView, Availability, MaintenanceView } from '@synthfleet/contracts';
import { agents } from '@synthfleet/db';
import { and, asc, eq, sql } from 'drizzle-orm';
import { notFound } from '../../errors.ts';
import { assertCanRead } from '../access.ts';
import { toAgentView } from '../agents.ts';
import { availabilityWindows } from '../availability.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { listClusters } from '../fleet.ts';
import { windowsFor } from '../maintenance.ts';
import {
  type DashboardTest,
  type DisplayStatus,
  listDashboardTests,
  listRejected,
  type RejectedObject,
} from './shared.ts';

export type ClusterPage = {
  now: number;
  cluster: Awaited<ReturnType<typeof listClusters>>[number];
  tests: DashboardTest[];
  counts: Record<DisplayStatus, number>;
  total: number;
  agents: AgentView[];
  /** The node to continue the agent list after, when there are more. */
  nextAgentsAfter: string | null;
  /** Runs passed / counted over the cluster's tests, per window. */
  availability: Record<string, Availability>;
  maintenance: MaintenanceView[];
  rejected: RejectedObject[];
};

/** 0 for a stale agent, 1 for a live one: the order of the cluster page's agent list. */
const staleLast = sql<number>`CASE ${agents.state} WHEN 'stale' THEN 0 ELSE 1 END`;
const afterOf = (a: { state: string; node: string }) => `${a.state === 'stale' ? 0 : 1}:${a.node}`;
function parseAfter(text: string | undefined): { rank: number; node: string } | undefined {
  const m = text ? /^([01]):(.+)$/.exec(text) : null;
  // A bare node (an older link) continues among the live agents.
  if (!m) return text ? { rank: 1, node: text } : undefined;
  return { rank: Number(m[1]), node: m[2] as string };
}

export async function getClusterPage(
  ctx: ServiceContext,
  principal: Principal,
  cluster: string,
  opts: { agentsAfter?: string | undefined; agentState?: 'live' | 'stale' | undefined; limit?: number },
): Promise<ClusterPage> {
  assertCanRead(principal, cluster);
  const limit = opts.limit ?? 200;
  const after = parseAfter(opts.agentsAfter);
  const [views, list, agentRows, availability, maintenance, rejected] = await Promise.all([
    listClusters(ctx, principal, cluster),
    listDashboardTests(ctx, principal, { cluster }, { limit: 200 }),
    // Problems first: stale agents, then live ones, each by node; the cursor is "rank:node".
    ctx.db
      .select()
      .from(agents)
      .where(
        and(
          eq(agents.cluster, cluster),
          opts.agentState ? eq(agents.state, opts.agentState) : undefined,
          after
            ? sql`(${staleLast} > ${after.rank} OR (${staleLast} = ${after.rank} AND ${agents.node} > ${after.node}))`
            : undefined,
        ),
      )
      .orderBy(staleLast, asc(agents.node))
      .limit(limit + 1),
    availabilityWindows(ctx, { cluster }, ctx.clock.now()),
    windowsFor(ctx, principal, { cluster }),
    listRejected(ctx, principal, cluster),
  ]);
  const view = views[0];
  if (!view) throw notFound(`cluster "${cluster}" was not found`);
  const page = agentRows.slice(0, limit);
  return {
    now: ctx.clock.now(),
    cluster: view,
    ...list,
    agents: page.map(toAgentView),
    nextAgentsAfter:
      agentRows.length > limit && page.at(-1) ? afterOf(page.at(-1) as { state: string; node: string }) : null,
    availability,
    maintenance,
    rejected,
  };
}
