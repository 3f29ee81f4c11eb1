import { inMaintenance } from '@synthfleet/contracts';
import { visibleClusters } from '../access.ts';
import type { Principal, ServiceContext } from '../context.ts';
import type { listClusters } from '../fleet.ts';
import { type ScannedTest, scanTests } from '../test-scan.ts';

/*
 * The overview's incidents: what is broken, where, since when and how badly, ranked so the widest,
 * most important and newest comes first. Failures are grouped by test across clusters, so a test
 * failing on a few nodes of each of 56 clusters is one incident ("3 nodes each in 56 clusters"),
 * not 56 rows; silent clusters and stale agents are incidents too, with true counts per cluster.
 */

export type Incident = {
  kind: 'test' | 'silent' | 'stale';
  /** What it is: the test's display name, or the cluster. */
  title: string;
  /** namespace/name of a test incident. */
  test: string | null;
  severity: 'failing' | 'degraded' | 'stale';
  importance: string | null;
  /** Nodes (agents) affected, of how many involved. */
  affected: number;
  of: number;
  /** Clusters involved, with their affected/of counts (worst first), at most 20 listed. */
  clusters: { name: string; affected: number; of: number }[];
  clusterCount: number;
  /** Nodes affected in each cluster when that is the same in every one (look-alikes), else null. */
  each: number | null;
  /** Of all the visible fleet's agents. */
  fleetShare: number;
  /** When it began (epoch ms), if known. */
  since: number | null;
  score: number;
};

const WEIGHT: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };

/** Blast radius × importance × recency: a newer incident of the same size ranks higher. */
export function incidentScore(
  i: Pick<Incident, 'affected' | 'importance' | 'since'>,
  fleetAgents: number,
  now: number,
) {
  const blast = i.affected / Math.max(1, fleetAgents);
  const weight = WEIGHT[i.importance ?? ''] ?? 1;
  const ageHours = i.since === null ? 24 : Math.max(0, now - i.since) / 3_600_000;
  return blast * weight * (1 + 1 / (1 + ageHours));
}

export async function listIncidents(
  ctx: ServiceContext,
  principal: Principal,
  clusterViews: (Awaited<ReturnType<typeof listClusters>>[number] & { silent: boolean })[],
  only?: string,
  /** The scope's live tests, when the caller has read them (test-scan.ts). */
  scanned?: ScannedTest[],
): Promise<Incident[]> {
  const now = ctx.clock.now();
  const scope = visibleClusters(principal, only);
  const rows = (scanned ?? (await scanTests(ctx, scope))).filter(
    (r) => (r.state === 'failing' || r.state === 'degraded') && (scope === null || r.cluster === scope),
  );
  const views = clusterViews.filter((c) => scope === null || c.name === scope);
  const fleetAgents = views.reduce((n, c) => n + c.agentsLive + c.agentsStale, 0);
  const out: Incident[] = [];
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    // In maintenance: expected, not an incident.
    if (inMaintenance(r.maintenanceFrom, r.maintenanceUntil, now)) continue;
    const key = `${r.namespace}/${r.name}|${r.state}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  for (const [key, list] of groups) {
    const [first] = list;
    if (!first) continue;
    const affected = list.reduce((n, r) => n + r.failingAgents, 0);
    const of = list.reduce((n, r) => n + r.assignedAgents, 0);
    const clusters = list
      .map((r) => ({ name: r.cluster, affected: r.failingAgents, of: r.assignedAgents }))
      .sort((a, b) => b.affected - a.affected || a.name.localeCompare(b.name));
    const since = list.reduce<number | null>(
      (m, r) => (r.failingSince === null ? m : m === null ? r.failingSince : Math.min(m, r.failingSince)),
      null,
    );
    const importance =
      list.map((r) => r.importance).sort((a, b) => (WEIGHT[b ?? ''] ?? 0) - (WEIGHT[a ?? ''] ?? 0))[0] ?? null;
    const incident: Incident = {
      kind: 'test',
      title: first.displayName ?? first.name,
      test: key.split('|')[0] as string,
      severity: first.state === 'failing' ? 'failing' : 'degraded',
      importance,
      affected,
      of,
      clusters: clusters.slice(0, 20),
      clusterCount: clusters.length,
      each: clusters.every((c) => c.affected === clusters[0]?.affected) ? (clusters[0]?.affected ?? null) : null,
      fleetShare: affected / Math.max(1, fleetAgents),
      since,
      score: 0,
    };
    incident.score = incidentScore(incident, fleetAgents, now) * (incident.severity === 'failing' ? 2 : 1);
    out.push(incident);
  }
  for (const c of views) {
    const total = c.agentsLive + c.agentsStale;
    // A silent cluster is one incident (all its agents); else its stale agents are.
    const kind = c.silent ? 'silent' : c.agentsStale > 0 ? 'stale' : null;
    if (kind === null) continue;
    const affected = kind === 'silent' ? total : c.agentsStale;
    const incident: Incident = {
      kind,
      title: c.name,
      test: null,
      severity: 'stale',
      importance: null,
      affected,
      of: total,
      clusters: [{ name: c.name, affected, of: total }],
      clusterCount: 1,
      each: affected,
      fleetShare: affected / Math.max(1, fleetAgents),
      since: kind === 'silent' && c.lastResultAt !== null ? Date.parse(c.lastResultAt) : null,
      score: 0,
    };
    // Silence hides everything a cluster would say: it ranks as a high-importance failure of its size.
    incident.score = incidentScore({ ...incident, importance: kind === 'silent' ? 'high' : null }, fleetAgents, now);
    out.push(incident);
  }
  return out.sort((a, b) => b.score - a.score || a.title.localeCompare(b.title));
}
