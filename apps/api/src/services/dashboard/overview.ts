import { type AgentView, type FleetTestView, inMaintenance, type MaintenanceView } from '@synthfleet/contracts';
import { visibleClusters } from '../access.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { listClusters, listStaleAgents } from '../fleet.ts';
import { fleetTestViews } from '../fleet-tests.ts';
import { windowsFor } from '../maintenance.ts';
import { scanTests } from '../test-scan.ts';
import { getHeatmap, type Heatmap } from './heatmap.ts';
import { type Incident, listIncidents } from './incidents.ts';
import {
  clusterSilent,
  type DashboardFilter,
  type DashboardTest,
  type DisplayStatus,
  listDashboardTests,
  listRejected,
  type RejectedObject,
} from './shared.ts';

/** The overview's heatmap: its first rows and columns (the page /heatmap has them all). */
const OVERVIEW_HEATMAP_ROWS = 12;
const OVERVIEW_HEATMAP_COLUMNS = 20;

/** Stale agents listed on the overview (the count is separate). */
const STALE_AGENTS_SHOWN = 100;

export type OverviewCluster = Awaited<ReturnType<typeof listClusters>>[number] & {
  silent: boolean;
  /** The worst test's share of nodes failing (0–1; 1 for a silent cluster): the tile's shade. */
  worst: number;
};

export type Overview = {
  now: number;
  /** Worst first (the largest share of nodes failing), then by name. */
  clusters: OverviewCluster[];
  /** The heatmap's first rows (problem clusters, the widest-broken columns). */
  heatmap: Heatmap;
  tests: DashboardTest[];
  /** Matching tests per display status, before the list was cut to `limit`. */
  counts: Record<DisplayStatus, number>;
  /** Matching tests in all; `tests` is the page from `offset`. */
  total: number;
  offset: number;
  limit: number;
  staleAgents: AgentView[];
  plugins: string[];
  /** Every visible cluster's name, for the filter. */
  allClusters: string[];
  /** Fleet tests with their verdicts (admins and viewers; a cluster token sees only its shares). */
  fleetTests: FleetTestView[];
  /** What is broken, grouped and ranked: the widest, most important, newest first. */
  incidents: Incident[];
  /** Maintenance windows open now and coming, active first. */
  maintenance: MaintenanceView[];
  /** Objects the API refused: never-valid ones, and invalid edits whose last valid revision runs. */
  rejected: RejectedObject[];
};

export async function getOverview(
  ctx: ServiceContext,
  principal: Principal,
  filter: DashboardFilter,
  page: { limit: number; offset: number } = { limit: 100, offset: 0 },
): Promise<Overview> {
  const scope = visibleClusters(principal, filter.cluster);
  const now = ctx.clock.now();
  // Read once for the tiles, the list and the incidents (they would each scan every test).
  const scanned = scanTests(ctx, visibleClusters(principal));
  const [clusterViews, list, stale, plugins, fleet, maintenance, rejected] = await Promise.all([
    listClusters(ctx, principal),
    listDashboardTests(ctx, principal, filter, page),
    listStaleAgents(ctx, scope, STALE_AGENTS_SHOWN),
    scanned.then((all) => [...new Set(all.map((t) => t.plugin))].sort().map((plugin) => ({ plugin }))),
    principal.role === 'cluster' ? Promise.resolve([]) : fleetTestViews(ctx),
    windowsFor(ctx, principal, filter.cluster ? { cluster: filter.cluster } : {}),
    listRejected(ctx, principal, filter.cluster),
  ]);
  const all = await scanned;
  const worst = new Map<string, number>();
  for (const t of all) {
    if ((t.state !== 'failing' && t.state !== 'degraded') || t.assignedAgents === 0) continue;
    if (inMaintenance(t.maintenanceFrom, t.maintenanceUntil, now)) continue;
    worst.set(t.cluster, Math.max(worst.get(t.cluster) ?? 0, t.failingAgents / t.assignedAgents));
  }
  const shown: OverviewCluster[] = clusterViews
    .filter((c) => filter.cluster === undefined || c.name === filter.cluster)
    .map((c) => {
      const silent = clusterSilent(c, now, ctx.config.staleResultMs);
      return { ...c, silent, worst: silent ? 1 : (worst.get(c.name) ?? 0) };
    })
    .sort(
      (a, b) =>
        b.worst - a.worst ||
        Number(b.testsFailing > 0) - Number(a.testsFailing > 0) ||
        b.agentsStale - a.agentsStale ||
        a.name.localeCompare(b.name),
    );
  const heatmap = await getHeatmap(
    ctx,
    principal,
    { by: 'test', offset: 0, limit: OVERVIEW_HEATMAP_ROWS, columns: OVERVIEW_HEATMAP_COLUMNS },
    { views: clusterViews, scanned: all },
  );
  return {
    now,
    clusters: shown,
    heatmap,
    incidents: await listIncidents(ctx, principal, shown, filter.cluster, all),
    ...list,
    ...page,
    staleAgents: stale,
    plugins: plugins.map((p) => p.plugin),
    allClusters: clusterViews.map((c) => c.name).sort(),
    fleetTests: fleet,
    maintenance,
    rejected,
  };
}
