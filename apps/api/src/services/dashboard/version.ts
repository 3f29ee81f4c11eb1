import { agents, clusters, remedyRuns, tests } from '@synthfleet/db';
import { type SQL, sql } from 'drizzle-orm';
import { visibleClusters } from '../access.ts';
import type { Principal, ServiceContext } from '../context.ts';

export async function dashboardVersion(ctx: ServiceContext, principal: Principal): Promise<string> {
  const scope = visibleClusters(principal);
  const onCluster = (col: SQL | typeof clusters.name) => (scope === null ? sql`1` : sql`${col} = ${scope}`);
  const row = await ctx.db
    .select({
      results: sql<
        number | null
      >`(SELECT max(${clusters.lastResultAt}) FROM ${clusters} WHERE ${onCluster(clusters.name)})`,
      tests: sql<string>`(SELECT count(*) || '.' || coalesce(sum(${tests.deletedAt} IS NULL), 0) || '.' || coalesce(max(${tests.updatedAt}), 0) FROM ${tests} WHERE ${onCluster(sql`${tests.cluster}`)})`,
      agents: sql<string>`(SELECT count(*) || '.' || coalesce(sum(${agents.state} = 'stale'), 0) || '.' || coalesce(max(${agents.registeredAt}), 0) FROM ${agents} WHERE ${onCluster(sql`${agents.cluster}`)})`,
      remedies: sql<string>`(SELECT count(*) || '.' || coalesce(max(${remedyRuns.endedAt}), 0) FROM ${remedyRuns} WHERE ${onCluster(sql`${remedyRuns.cluster}`)})`,
    })
    .from(sql`(SELECT 1)`)
    .get();
  return `${row?.results ?? 0}-${row?.tests ?? ''}-${row?.agents ?? ''}-${row?.remedies ?? ''}`;
}
