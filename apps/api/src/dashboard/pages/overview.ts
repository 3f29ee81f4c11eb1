import { Importance } from '@synthfleet/contracts';
import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import {
  type DashboardFilter,
  type DashboardTest,
  DISPLAY_STATUSES,
  type Overview,
  type OverviewCluster,
} from '../../services/dashboard/index.ts';
import {
  agentHref,
  ago,
  badge,
  clusterHref,
  type Html,
  lasting,
  page,
  plural,
  region,
  testHref,
  withQuery,
} from '../layout.ts';
import { heatmapLegend, heatmapTable, shade } from './heatmap.ts';
import { incidentsSection, maintenanceSection, rejectedSection } from './operations.ts';

const IMPORTANCE = Importance.options;
/** Past this many clusters the filter takes a typed name: a select of 1,000 options is no help. */
const CLUSTER_SELECT_MAX = 100;
/** Cluster tiles before the rest shrink to a strip of chips (worst first). */
const TILES_SHOWN = 24;
/** Chips in the strip; past them a count and the heatmap link. */
const STRIP_SHOWN = 200;
/** Fleet test clusters listed (worst first) before "and N more". */
const FLEET_CHIPS_SHOWN = 30;

function option(value: string, current: string | undefined, label = value): Html {
  return html`<option value="${value}" ${value === current ? 'selected' : ''}>${label}</option>`;
}

/** The filter lives in the URL (a GET form), so a filtered view can be shared and survives a reload. */
function filterForm(overview: Overview, f: DashboardFilter, principal: Principal): Html {
  return html`<section id="filters" aria-label="Filters">
<form class="filters" method="get" action="/">
${
  principal.role === 'cluster'
    ? ''
    : overview.allClusters.length <= CLUSTER_SELECT_MAX
      ? html`<label>Cluster<select name="cluster">${option('', f.cluster, 'all')}${overview.allClusters.map((c) => option(c, f.cluster))}</select></label>`
      : html`<label>Cluster<input name="cluster" value="${f.cluster ?? ''}" placeholder="all ${overview.allClusters.length}" size="14" maxlength="63" pattern="[a-z0-9]([\-a-z0-9.]*[a-z0-9])?"></label>`
}
<label>Status<select name="status">${option('', f.status, 'any')}${DISPLAY_STATUSES.map((s) => option(s, f.status))}</select></label>
<label>Importance<select name="importance">${option('', f.importance, 'any')}${IMPORTANCE.map((s) => option(s, f.importance))}</select></label>
<label>Plugin<select name="plugin">${option('', f.plugin, 'any')}${overview.plugins.map((p) => option(p, f.plugin))}</select></label>
<label>Label<input name="label" value="${f.label ?? ''}" placeholder="key=value" size="14"></label>
<button type="submit">Apply</button> <a href="/">Clear</a>
</form>
</section>`;
}

export function testRows(tests: DashboardTest[], now: number, showCluster: boolean): Html {
  if (tests.length === 0) return html`<p class="muted">No tests match.</p>`;
  return html`<div class="table-wrap"><table class="tests">
<thead><tr><th>Status</th><th>Test</th>${showCluster ? html`<th>Cluster</th>` : ''}<th>Importance</th><th>Plugin</th><th>Since / last result</th><th>Agents</th><th>Detail</th></tr></thead>
<tbody>
${tests.map(
  (t) => html`<tr data-status="${t.display}" data-test="${t.key}">
<td class="c-status">${badge(t.display)}</td>
<td class="c-test"><a href="${testHref(t)}">${t.displayName ?? t.name}</a><div class="small muted">${t.namespace}/${t.name}</div>${t.rejectedEdit ? html`<div class="small" data-rejected-edit><strong>edit refused</strong>: the last valid spec runs</div>` : ''}</td>
${showCluster ? html`<td class="c-cluster" data-label="Cluster"><a href="${clusterHref(t.cluster)}">${t.cluster}</a></td>` : ''}
<td class="c-opt" data-label="Importance">${t.importance ?? '—'}</td>
<td class="c-opt" data-label="Plugin">${t.plugin}</td>
<td data-label="Since">${
    t.display === 'failing'
      ? html`failing for ${lasting(t.failingSince, now)}`
      : t.display === 'stale'
        ? t.lastRunAt
          ? html`no result for ${lasting(t.lastRunAt, now)}`
          : t.staleReason
        : t.display === 'maintenance'
          ? t.staleReason
          : t.display === 'unsupported'
            ? html`no agent offers plugin ${t.plugin}`
            : t.display === 'degraded'
              ? html`${t.failingAgents} of ${t.assignedAgents} failing, under the quorum · ${ago(t.lastRunAt, now)}`
              : ago(t.lastRunAt, now)
  }</td>
<td data-label="Agents">${t.failingAgents} failing / ${t.assignedAgents} assigned</td>
<td class="small c-detail">${
    t.display === 'failing'
      ? html`${t.failingNodes.length ? html`on ${t.failingNodes.join(', ')}${t.failingAgents > t.failingNodes.length ? html` and ${t.failingAgents - t.failingNodes.length} more` : ''}` : ''}
<div class="muted">${t.lastFailureMessage ?? ''}</div>`
      : ''
  }</td>
</tr>`,
)}
</tbody></table></div>`;
}

const STATE_ORDER: Record<string, number> = { failing: 0, degraded: 1, stale: 2, pending: 3 };
function worstFirst<T extends { state: string; cluster: string }>(list: readonly T[]): T[] {
  return [...list].sort(
    (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || a.cluster.localeCompare(b.cluster),
  );
}

function tileWords(c: OverviewCluster): string {
  if (c.silent) return `${c.name}: silent, no news`;
  if (c.worst > 0) return `${c.name}: ${Math.max(1, Math.round(c.worst * 100))} % of nodes failing its worst test`;
  return `${c.name}: ${c.testsFailing ? `${c.testsFailing} failing` : 'no failures'}${c.agentsStale ? `, ${c.agentsStale} stale agents` : ''}`;
}

/**
 * Tiles for the worst clusters, shaded by their worst test's share of nodes failing; the rest as a
 * strip of chips (and, filtered, every cluster as a chip), so failures stay near the top.
 */
function clusterTiles(overview: Overview, filtered: boolean): Html {
  const tiles = filtered ? [] : overview.clusters.slice(0, TILES_SHOWN);
  const rest = overview.clusters.slice(tiles.length);
  const strip = rest.filter((c) => c.worst > 0 || c.silent || c.testsFailing > 0 || c.agentsStale > 0);
  const chips = strip.slice(0, STRIP_SHOWN);
  const fine = rest.length - strip.length;
  return html`${
    tiles.length
      ? html`<div class="tiles">
${tiles.map(
  (
    c,
  ) => html`<section class="tile q${shade(c.worst)}${c.testsFailing > 0 ? ' problem' : c.silent ? ' silent' : ''}" data-cluster="${c.name}" data-worst="${c.worst.toFixed(3)}">
<h3><a href="${clusterHref(c.name)}">${c.name}</a>${c.worst > 0 && !c.silent ? html` <span class="share">${Math.max(1, Math.round(c.worst * 100))} %</span>` : ''}</h3>
<dl class="kv small">
<dt>Agents</dt><dd>${c.agentsLive} live${c.agentsStale ? html`, <strong>${c.agentsStale} stale</strong>` : ''}</dd>
<dt>Tests</dt><dd>${
    c.silent
      ? html`<strong>${plural(c.testsTotal, 'test')}, no news</strong>: nothing heard for longer than the threshold`
      : html`${c.testsPassing} passing, ${c.testsFailing ? html`<strong>${c.testsFailing} failing</strong>` : '0 failing'}, ${c.testsPending} pending`
  }</dd>
<dt>Last result</dt><dd>${ago(c.lastResultAt, overview.now)}${c.silent ? html` · <strong>silent</strong>` : ''}</dd>
</dl>
</section>`,
)}
</div>`
      : ''
  }
${chips.length ? html`<div class="strip" role="list" aria-label="More clusters with a problem">${chips.map((c) => html`<a role="listitem" class="chip q${shade(c.worst)}${c.silent ? ' silent' : ''}" data-cluster="${c.name}" href="${clusterHref(c.name)}" title="${tileWords(c)}">${c.name}</a>`)}</div>` : ''}
${strip.length > chips.length || fine > 0 ? html`<p class="small muted" data-more-clusters>${strip.length > chips.length ? html`${strip.length - chips.length} more clusters with a problem, ` : ''}${fine > 0 ? html`${plural(fine, 'cluster')} with nothing failing, ` : ''}on <a href="/heatmap">the heatmap</a>.</p>` : ''}`;
}

export function overviewPage(
  overview: Overview,
  f: DashboardFilter,
  principal: Principal,
  version: string,
  anonymousCluster: string | null = null,
): Html {
  const silent = overview.clusters.filter((c) => c.silent);
  // True counts from every cluster's totals; the stale agents listed below are capped.
  const staleByCluster = overview.clusters
    .filter((c) => c.agentsStale > 0)
    .sort((a, b) => b.agentsStale - a.agentsStale);
  const staleTotal = staleByCluster.reduce((n, c) => n + c.agentsStale, 0);
  const filtered = Boolean(f.cluster || f.status || f.importance || f.plugin || f.label);
  const problems = overview.counts.failing + overview.counts.degraded + overview.counts.stale;
  const live = html`<h1>Fleet</h1>
${region(
  'summary',
  html`${
    anonymousCluster !== null && principal.role === 'admin'
      ? html`<p class="notice" role="status" data-notice="sh-anonymous"><strong>Open without a token:</strong> SH_ANONYMOUS_CLUSTER is set, so synthetic-heart's read routes (<code>/api/v1/ping</code>, <code>/api/v1/agents</code>, <code>/api/v1/testconfigs/summary</code>, <code>/api/v1/plugins/status</code>, …) answer anyone, with CORS <code>*</code>, for cluster <a href="${clusterHref(anonymousCluster)}">${anonymousCluster}</a>.</p>`
      : ''
  }
<p class="summary">${plural(overview.clusters.length, 'cluster')} · ${overview.counts.failing} failing · ${overview.counts.degraded} degraded · ${overview.counts.stale} without results · ${overview.counts.pending} pending · ${overview.counts.passing} passing · not problems: ${overview.counts.maintenance} in maintenance, ${overview.counts.skipped} skipped, ${overview.counts.unsupported} unsupported</p>
${
  silent.length || staleTotal
    ? html`<div class="error-box" role="alert">
${silent.length ? html`<p><strong>Silent clusters</strong> (no result within the threshold): ${silent.map((c, i) => html`${i ? ', ' : ''}<a href="${clusterHref(c.name)}">${c.name}</a>`)}</p>` : ''}
${staleTotal ? html`<p data-stale-total="${staleTotal}"><strong>${plural(staleTotal, 'stale agent')}</strong> (no poll within the deadline): ${staleByCluster.map((c, i) => html`${i ? ', ' : ''}<a href="${clusterHref(c.name)}">${c.name}</a>: ${c.agentsStale} of ${c.agentsLive + c.agentsStale}`)}.</p>` : ''}
</div>`
    : ''
}`,
)}
${region('incidents', html`${incidentsSection(overview.incidents)}`)}
${region('rejected', html`${rejectedSection(overview.rejected, overview.now)}`)}
${region('maintenance', html`${maintenanceSection(overview.maintenance)}`)}
${region(
  'fleet-tests',
  html`${
    overview.fleetTests.length
      ? html`<h2>Fleet tests</h2>
<div class="table-wrap"><table class="fleet-tests"><thead><tr><th>Status</th><th>Fleet test</th><th>Quorum</th><th>Clusters (worst first)</th></tr></thead><tbody>
${overview.fleetTests.map(
  (ft) => html`<tr data-fleet-test="${ft.namespace}/${ft.name}" data-status="${ft.state}">
<td>${badge(ft.state)}</td>
<td>${ft.displayName ?? ft.name}<div class="small muted">${ft.namespace}/${ft.name} · ${ft.plugin}</div></td>
<td class="small">${ft.quorum === null ? 'all clusters' : typeof ft.quorum === 'number' ? `${ft.quorum} of ${ft.selected.length}` : ft.quorum}</td>
<td><div class="grid">${worstFirst(ft.selected)
    .slice(0, FLEET_CHIPS_SHOWN)
    .map(
      (s) =>
        html`<a class="chip s-${s.state}" data-cluster="${s.cluster}" data-status="${s.state}" href="${testHref({ cluster: s.cluster, namespace: ft.namespace, name: ft.name })}" title="${s.cluster}: ${s.state}${s.failingSince ? ` since ${s.failingSince}` : ''}${s.state === 'failing' || s.state === 'degraded' ? ` (${s.failingAgents} of ${s.assignedAgents} agents)` : ''}">${s.cluster}${s.failingSince ? html` <span class="small">since ${s.failingSince.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</span>` : ''}</a>`,
    )}${ft.selected.length > FLEET_CHIPS_SHOWN ? html` <span class="small muted">and ${ft.selected.length - FLEET_CHIPS_SHOWN} more (${ft.selected.filter((x) => x.state === 'passing').length} of all ${ft.selected.length} passing)</span>` : ''}</div></td>
</tr>`,
)}
</tbody></table></div>`
      : ''
  }`,
)}
${region(
  'clusters',
  html`<h2 id="clusters">Clusters <span class="small muted">(the largest share of nodes failing first)</span></h2>
${clusterTiles(overview, filtered)}`,
)}
${region(
  'heatmap',
  // Filtered, the matching tests come right after the clusters' strip: the heatmap is the fleet's.
  filtered
    ? ''
    : html`<h2 id="heatmap">Heatmap <a class="small" href="/heatmap">(every cluster × test, and × plugin)</a></h2>
${heatmapLegend()}
${heatmapTable(overview.heatmap)}
${overview.heatmap.totalRows > overview.heatmap.rows.length || overview.heatmap.foldedColumns ? html`<p class="small muted">The first ${overview.heatmap.rows.length} of ${plural(overview.heatmap.totalRows, 'cluster with a problem', 'clusters with a problem')}; <a href="/heatmap">the full heatmap</a> pages through them all.</p>` : ''}`,
)}
${region(
  'tests',
  html`<h2>Tests${problems ? html` <span class="small muted">(problems first)</span>` : ''}</h2>
${testRows(overview.tests, overview.now, true)}
${
  overview.total > overview.tests.length
    ? html`<nav class="pager" aria-label="Pages of tests"><span class="muted small">${overview.offset + 1}–${overview.offset + overview.tests.length} of ${overview.total}</span>
${overview.offset > 0 ? html`<a href="${withQuery('/', { ...f, limit: overview.limit === 100 ? undefined : overview.limit, offset: Math.max(0, overview.offset - overview.limit) || undefined })}">← Previous</a>` : ''}
${overview.offset + overview.tests.length < overview.total ? html`<a href="${withQuery('/', { ...f, limit: overview.limit === 100 ? undefined : overview.limit, offset: overview.offset + overview.limit })}">Next ${overview.limit} →</a>` : ''}</nav>`
    : ''
}`,
)}
${region(
  'stale-agents',
  html`${
    overview.staleAgents.length
      ? html`<h2>Stale agents${staleTotal > overview.staleAgents.length ? html` <span class="small muted">(the first ${overview.staleAgents.length} of ${staleTotal}, by cluster and node)</span>` : ''}</h2><div class="table-wrap"><table><thead><tr><th>Cluster</th><th>Node</th><th>Last poll</th><th>Version</th></tr></thead><tbody>
${overview.staleAgents.map((a) => html`<tr><td>${a.cluster}</td><td><a href="${agentHref(a.agentId)}">${a.node}</a></td><td>${ago(a.lastPollAt, overview.now)}</td><td>${a.version}</td></tr>`)}
</tbody></table></div>`
      : ''
  }`,
)}`;
  return page({
    title: 'Fleet',
    principal,
    version,
    now: overview.now,
    head: filterForm(overview, f, principal),
    live,
  });
}
