import type { ClusterView, Verdict } from '@synthfleet/contracts';
import { visibleClusters } from '../access.ts';
import type { Principal, ServiceContext } from '../context.ts';
import { listClusters } from '../fleet.ts';
import { type ScannedTest, scannedVerdict, scanTests } from '../test-scan.ts';
import { verdictClock } from '../test-views.ts';
import { clusterSilent } from './shared.ts';

/*
 * The fleet heatmap: clusters down, tests (or plugins) across, each cell coloured by the share of
 * its nodes failing, with stale, silent, maintenance and unsupported each shown apart. Built from
 * the tests' roll-ups (one row per test), never from raw results, so 1,000 clusters cost one
 * narrow scan. Bounded whatever the fleet: the problem rows first, a page at a time; clusters
 * where everything passes fold into one row; columns past the widest few fold into "other".
 */

/** What a cell shows; `silent` is a stale test of a silent cluster, `none` a cluster without it. */
export type CellState = Verdict | 'silent' | 'none';

export type HeatCell = {
  state: CellState;
  /** Nodes failing and assigned (summed over the cell's tests). */
  failing: number;
  assigned: number;
  /** Tests in the cell: 1 for a test column, the cluster's tests of a plugin, or folded columns. */
  tests: number;
  /** The test a single-test cell links to (namespace/name), else null. */
  test: string | null;
};

export type HeatRow = {
  cluster: string;
  silent: boolean;
  /** The worst cell's share of nodes failing (0–1): the row's shade and rank. */
  worst: number;
  cells: HeatCell[];
  /** Every column past the shown ones, folded into one cell (null when none are folded). */
  other: HeatCell | null;
};

export type Heatmap = {
  by: 'test' | 'plugin';
  columns: { key: string; label: string; problemClusters: number }[];
  /** Columns folded into "other". */
  foldedColumns: number;
  rows: HeatRow[];
  /** Rows matching (problem clusters, or all with `all`), before paging. */
  totalRows: number;
  /** Clusters where every cell is fine, folded into one row unless `all`: their count per column. */
  healthy: { clusters: number; cells: number[] } | null;
  clusters: number;
  offset: number;
  limit: number;
};

export type HeatmapQuery = {
  by: 'test' | 'plugin';
  /** Clusters whose name contains this. */
  q?: string | undefined;
  /** List healthy clusters too, as rows (else they fold into one). */
  all?: boolean | undefined;
  offset: number;
  limit: number;
  /** Columns shown before the rest fold (default 30). */
  columns?: number;
};

/** Worst first: the order a folded cell takes its state from. */
const RANK: Record<CellState, number> = {
  failing: 0,
  degraded: 1,
  silent: 2,
  stale: 3,
  pending: 4,
  unsupported: 5,
  maintenance: 6,
  skipped: 7,
  passing: 8,
  none: 9,
};
/** States that make a row a problem row. */
const PROBLEM = new Set<CellState>(['failing', 'degraded', 'silent', 'stale']);

export const cellShare = (c: Pick<HeatCell, 'failing' | 'assigned'>) => (c.assigned > 0 ? c.failing / c.assigned : 0);

function fold(cells: HeatCell[]): HeatCell {
  let out: HeatCell = { state: 'none', failing: 0, assigned: 0, tests: 0, test: null };
  for (const c of cells) {
    if (c.state === 'none') continue;
    out = {
      state: RANK[c.state] < RANK[out.state] ? c.state : out.state,
      failing: out.failing + c.failing,
      assigned: out.assigned + c.assigned,
      tests: out.tests + c.tests,
      test: out.tests === 0 ? c.test : null,
    };
  }
  return out;
}

export async function getHeatmap(
  ctx: ServiceContext,
  principal: Principal,
  query: HeatmapQuery,
  /** The visible clusters and their live tests, when the caller has read them. */
  read?: { views: ClusterView[]; scanned: ScannedTest[] },
): Promise<Heatmap> {
  const [views, rows] = read
    ? [read.views, read.scanned]
    : await Promise.all([listClusters(ctx, principal), scanTests(ctx, visibleClusters(principal))]);
  const now = ctx.clock.now();
  const at = verdictClock(ctx);
  const silent = new Set(views.filter((c) => clusterSilent(c, now, ctx.config.staleResultMs)).map((c) => c.name));
  const needle = query.q?.toLowerCase();
  const clusterNames = views.map((c) => c.name).filter((n) => !needle || n.toLowerCase().includes(needle));
  const wanted = new Set(clusterNames);

  // Cells by cluster and column key.
  const labels = new Map<string, string>();
  const grid = new Map<string, Map<string, HeatCell[]>>();
  for (const r of rows) {
    if (!wanted.has(r.cluster)) continue;
    const key = query.by === 'test' ? `${r.namespace}/${r.name}` : r.plugin;
    if (!labels.has(key)) labels.set(key, query.by === 'test' ? (r.displayName ?? r.name) : r.plugin);
    const verdict = scannedVerdict(r, at).state;
    const state: CellState = verdict === 'stale' && silent.has(r.cluster) ? 'silent' : verdict;
    const counted = state === 'failing' || state === 'degraded';
    const cell: HeatCell = {
      state,
      failing: counted ? r.failingAgents : 0,
      assigned: r.assignedAgents,
      tests: 1,
      test: `${r.namespace}/${r.name}`,
    };
    let byKey = grid.get(r.cluster);
    if (!byKey) {
      byKey = new Map();
      grid.set(r.cluster, byKey);
    }
    const list = byKey.get(key);
    if (list) list.push(cell);
    else byKey.set(key, [cell]);
  }
  // Columns: the most widely broken first, then the most widely declared, then by name.
  const stats = new Map<string, { problems: number; present: number }>();
  for (const byKey of grid.values())
    for (const [key, cells] of byKey) {
      const s = stats.get(key) ?? { problems: 0, present: 0 };
      s.present++;
      if (PROBLEM.has(fold(cells).state)) s.problems++;
      stats.set(key, s);
    }
  const keys = [...stats.entries()]
    .sort((a, b) => b[1].problems - a[1].problems || b[1].present - a[1].present || a[0].localeCompare(b[0]))
    .map(([k]) => k);
  const shownKeys = keys.slice(0, query.columns ?? 30);
  const foldedKeys = keys.slice(shownKeys.length);
  const empty: HeatCell = { state: 'none', failing: 0, assigned: 0, tests: 0, test: null };

  const all: HeatRow[] = clusterNames.map((cluster) => {
    const byKey = grid.get(cluster) ?? new Map<string, HeatCell[]>();
    const cells = shownKeys.map((k) => {
      const list = byKey.get(k);
      return list ? fold(list) : empty;
    });
    const other = foldedKeys.length ? fold(foldedKeys.flatMap((k) => byKey.get(k) ?? [])) : null;
    const every = other ? [...cells, other] : cells;
    return {
      cluster,
      silent: silent.has(cluster),
      // A silent cluster says nothing of its nodes: it ranks with the worst.
      worst: silent.has(cluster) ? 1 : Math.max(0, ...every.map(cellShare)),
      cells,
      other,
    };
  });
  const isProblem = (r: HeatRow) =>
    r.silent || [...r.cells, ...(r.other ? [r.other] : [])].some((c) => PROBLEM.has(c.state));
  const worstRank = (r: HeatRow) => Math.min(...[...r.cells, ...(r.other ? [r.other] : [])].map((c) => RANK[c.state]));
  const problems = all.filter(isProblem);
  const healthyRows = all.filter((r) => !isProblem(r));
  const listed = query.all ? all : problems;
  listed.sort((a, b) => b.worst - a.worst || worstRank(a) - worstRank(b) || a.cluster.localeCompare(b.cluster));
  return {
    by: query.by,
    columns: shownKeys.map((k) => ({
      key: k,
      label: labels.get(k) ?? k,
      problemClusters: stats.get(k)?.problems ?? 0,
    })),
    foldedColumns: foldedKeys.length,
    rows: listed.slice(query.offset, query.offset + query.limit),
    totalRows: listed.length,
    healthy:
      query.all || healthyRows.length === 0
        ? null
        : {
            clusters: healthyRows.length,
            cells: shownKeys.map((_, i) => healthyRows.filter((r) => r.cells[i]?.state !== 'none').length),
          },
    clusters: clusterNames.length,
    offset: query.offset,
    limit: query.limit,
  };
}
