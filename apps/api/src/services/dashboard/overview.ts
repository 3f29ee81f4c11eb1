import type { AgentView, FleetTestView, MaintenanceView } from '@synthfleet/contracts';
import { tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { visibleClusters } from '../access.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { listClusters, listStaleAgents } from '../fleet.ts';
import { fleetTestViews } from '../fleet-tests.ts';
import { windowsFor } from '../maintenance.ts';
import { type Incident, listIncidents } from './incidents.ts';
import {
  type DashboardFilter,
  type DashboardTest,
  type DisplayStatus,
  listDashboardTests,
  listRejected,
  type RejectedObject,
} from './shared.ts';

/** Stale agents listed on the overview (the count is separate). */
const STALE_AGENTS_SHOWN = 100;

export type Overview = {
  now: number;
  clusters: (Awaited<ReturnType<typeof listClusters>>[number] & { silent: boolean })[];
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
  const [clusterViews, list, stale, plugins, fleet, maintenance, rejected] = await Promise.all([
    listClusters(ctx, principal),
    listDashboardTests(ctx, principal, filter, page),
    listStaleAgents(ctx, scope, STALE_AGENTS_SHOWN),
    ctx.db
      .selectDistinct({ plugin: tests.plugin })
      .from(tests)
      .where(
        and(
          isNull(tests.deletedAt),
          principal.role === 'cluster' ? eq(tests.cluster, principal.cluster ?? '') : undefined,
        ),
      )
      .orderBy(tests.plugin),
    principal.role === 'cluster' ? Promise.resolve([]) : fleetTestViews(ctx),
    windowsFor(ctx, principal, filter.cluster ? { cluster: filter.cluster } : {}),
    listRejected(ctx, principal, filter.cluster),
  ]);
  const threshold = ctx.config.staleResultMs;
  const shown = clusterViews
    .filter((c) => filter.cluster === undefined || c.name === filter.cluster)
    .map((c) => ({
      ...c,
      // Silent: tests declared, yet nothing heard for longer than the threshold (or ever).
      silent: c.testsTotal > 0 && (c.lastResultAt === null || now - Date.parse(c.lastResultAt) > threshold),
    }));
  return {
    now,
    clusters: shown,
    incidents: await listIncidents(ctx, principal, shown, filter.cluster),
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
