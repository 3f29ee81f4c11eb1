import { Importance } from '@synthfleet/contracts';
import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import {
  type DashboardFilter,
  type DashboardTest,
  DISPLAY_STATUSES,
  type Overview,
} from '../../services/dashboard/index.ts';
import { agentHref, ago, badge, clusterHref, type Html, page, plural, testHref, withQuery } from '../layout.ts';
import { incidentsSection, maintenanceSection, rejectedSection } from './operations.ts';

const IMPORTANCE = Importance.options;

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
    : html`<label>Cluster<select name="cluster">${option('', f.cluster, 'all')}${overview.allClusters.map((c) => option(c, f.cluster))}</select></label>`
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
<td>${badge(t.display)}</td>
<td><a href="${testHref(t)}">${t.displayName ?? t.name}</a><div class="small muted">${t.namespace}/${t.name}</div>${t.rejectedEdit ? html`<div class="small" data-rejected-edit><strong>edit refused</strong>: the last valid spec runs</div>` : ''}</td>
${showCluster ? html`<td><a href="${clusterHref(t.cluster)}">${t.cluster}</a></td>` : ''}
<td>${t.importance ?? '—'}</td>
<td>${t.plugin}</td>
<td>${
    t.display === 'failing'
      ? html`failing for ${ago(t.failingSince, now).replace(' ago', '')}`
      : t.display === 'stale'
        ? t.staleReason
        : t.display === 'maintenance'
          ? t.staleReason
          : t.display === 'unsupported'
            ? html`no agent offers plugin ${t.plugin}`
            : t.display === 'degraded'
              ? html`${t.failingAgents} of ${t.assignedAgents} failing, under the quorum · ${ago(t.lastRunAt, now)}`
              : ago(t.lastRunAt, now)
  }</td>
<td>${t.failingAgents} failing / ${t.assignedAgents} assigned</td>
<td class="small">${
    t.display === 'failing'
      ? html`${t.failingNodes.length ? html`on ${t.failingNodes.join(', ')}${t.failingAgents > t.failingNodes.length ? html` and ${t.failingAgents - t.failingNodes.length} more` : ''}` : ''}
<div class="muted">${t.lastFailureMessage ?? ''}</div>`
      : ''
  }</td>
</tr>`,
)}
</tbody></table></div>`;
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
  const problems = overview.counts.failing + overview.counts.degraded + overview.counts.stale;
  const live = html`<h1>Fleet</h1>
${
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
}
${incidentsSection(overview.incidents)}
${rejectedSection(overview.rejected, overview.now)}
${maintenanceSection(overview.maintenance)}
${
  overview.fleetTests.length
    ? html`<h2>Fleet tests</h2>
<div class="table-wrap"><table class="fleet-tests"><thead><tr><th>Status</th><th>Fleet test</th><th>Quorum</th><th>Clusters (worst first)</th></tr></thead><tbody>
${overview.fleetTests.map(
  (ft) => html`<tr data-fleet-test="${ft.namespace}/${ft.name}" data-status="${ft.state}">
<td>${badge(ft.state)}</td>
<td>${ft.displayName ?? ft.name}<div class="small muted">${ft.namespace}/${ft.name} · ${ft.plugin}</div></td>
<td class="small">${ft.quorum === null ? 'all clusters' : typeof ft.quorum === 'number' ? `${ft.quorum} of ${ft.selected.length}` : ft.quorum}</td>
<td><div class="grid">${ft.selected.map(
    (s) =>
      html`<a class="chip s-${s.state}" data-cluster="${s.cluster}" data-status="${s.state}" href="${testHref({ cluster: s.cluster, namespace: ft.namespace, name: ft.name })}" title="${s.cluster}: ${s.state}${s.failingSince ? ` since ${s.failingSince}` : ''}${s.state === 'failing' || s.state === 'degraded' ? ` (${s.failingAgents} of ${s.assignedAgents} agents)` : ''}">${s.cluster}${s.failingSince ? html` <span class="small">since ${s.failingSince.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</span>` : ''}</a>`,
  )}</div></td>
</tr>`,
)}
</tbody></table></div>`
    : ''
}
<h2>Clusters</h2>
<div class="tiles">
${overview.clusters.map(
  (
    c,
  ) => html`<section class="tile${c.testsFailing > 0 ? ' problem' : c.silent ? ' silent' : ''}" data-cluster="${c.name}">
<h3><a href="${clusterHref(c.name)}">${c.name}</a></h3>
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
</div>
<h2>Tests${problems ? html` <span class="small muted">(problems first)</span>` : ''}</h2>
${testRows(overview.tests, overview.now, true)}
${
  overview.total > overview.tests.length
    ? html`<nav class="pager" aria-label="Pages of tests"><span class="muted small">${overview.offset + 1}–${overview.offset + overview.tests.length} of ${overview.total}</span>
${overview.offset > 0 ? html`<a href="${withQuery('/', { ...f, limit: overview.limit === 100 ? undefined : overview.limit, offset: Math.max(0, overview.offset - overview.limit) || undefined })}">← Previous</a>` : ''}
${overview.offset + overview.tests.length < overview.total ? html`<a href="${withQuery('/', { ...f, limit: overview.limit === 100 ? undefined : overview.limit, offset: overview.offset + overview.limit })}">Next ${overview.limit} →</a>` : ''}</nav>`
    : ''
}
${
  overview.staleAgents.length
    ? html`<h2>Stale agents${staleTotal > overview.staleAgents.length ? html` <span class="small muted">(the first ${overview.staleAgents.length} of ${staleTotal}, by cluster and node)</span>` : ''}</h2><div class="table-wrap"><table><thead><tr><th>Cluster</th><th>Node</th><th>Last poll</th><th>Version</th></tr></thead><tbody>
${overview.staleAgents.map((a) => html`<tr><td>${a.cluster}</td><td><a href="${agentHref(a.agentId)}">${a.node}</a></td><td>${ago(a.lastPollAt, overview.now)}</td><td>${a.version}</td></tr>`)}
</tbody></table></div>`
    : ''
}`;
  return page({ title: 'Fleet', principal, version, head: filterForm(overview, f, principal), live });
}
