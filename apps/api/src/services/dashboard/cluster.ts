import type { AgentView, Availability, MaintenanceView } from '@synthfleet/contracts';
import { agents } from '@synthfleet/db';
import { and, asc, eq, gt } from 'drizzle-orm';
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

export async function getClusterPage(
  ctx: ServiceContext,
  principal: Principal,
  cluster: string,
  opts: { agentsAfter?: string | undefined; limit?: number },
): Promise<ClusterPage> {
  assertCanRead(principal, cluster);
  const limit = opts.limit ?? 200;
  const [views, list, agentRows, availability, maintenance, rejected] = await Promise.all([
    listClusters(ctx, principal, cluster),
    listDashboardTests(ctx, principal, { cluster }, { limit: 200 }),
    ctx.db
      .select()
      .from(agents)
      .where(and(eq(agents.cluster, cluster), opts.agentsAfter ? gt(agents.node, opts.agentsAfter) : undefined))
      .orderBy(asc(agents.node))
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
    nextAgentsAfter: agentRows.length > limit ? (page.at(-1)?.node ?? null) : null,
    availability,
    maintenance,
    rejected,
  };
}
