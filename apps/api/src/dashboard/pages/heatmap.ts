import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import { cellShare, type HeatCell, type Heatmap } from '../../services/dashboard/index.ts';
import { clusterHref, type Html, page, plural, region, testHref, withQuery } from '../layout.ts';

/** A share of nodes failing as one of five shades: 0 none, 1 ≤ 10 %, 2 ≤ 33 %, 3 ≤ 66 %, 4 more. */
export function shade(share: number): number {
  if (share <= 0) return 0;
  if (share <= 0.1) return 1;
  if (share <= 1 / 3) return 2;
  if (share <= 2 / 3) return 3;
  return 4;
}

function cellText(c: HeatCell): string {
  if (c.state === 'failing' || c.state === 'degraded') return `${Math.max(1, Math.round(cellShare(c) * 100))}`;
  return (
    { silent: '∅', stale: '?', maintenance: 'm', unsupported: 'u', pending: '…', skipped: '–' }[c.state as string] ?? ''
  );
}

function cellWords(cluster: string, label: string, c: HeatCell): string {
  const what = c.tests > 1 ? `${label} (${c.tests} tests)` : label;
  if (c.state === 'failing' || c.state === 'degraded')
    return `${cluster} · ${what}: ${c.state}, ${c.failing} of ${plural(c.assigned, 'node')} failing`;
  if (c.state === 'silent') return `${cluster} · ${what}: cluster silent, no news`;
  if (c.state === 'stale') return `${cluster} · ${what}: no recent result`;
  return `${cluster} · ${what}: ${c.state}`;
}

function cell(cluster: string, label: string, c: HeatCell, href: string | null): Html {
  if (c.state === 'none') return html`<td class="h h-none"></td>`;
  const words = cellWords(cluster, label, c);
  const cls = `h h-${c.state}${c.state === 'failing' || c.state === 'degraded' ? ` q${shade(cellShare(c))}` : ''}`;
  return href
    ? html`<td class="${cls}"><a href="${href}" title="${words}" aria-label="${words}">${cellText(c)}</a></td>`
    : html`<td class="${cls}" title="${words}">${cellText(c)}</td>`;
}

function cellHref(map: Heatmap, cluster: string, c: HeatCell, column: string | null): string | null {
  if (c.state === 'none') return null;
  if (column === null) return c.test && c.tests === 1 ? testHrefOf(cluster, c.test) : clusterHref(cluster);
  if (map.by === 'test' && c.test) return testHrefOf(cluster, c.test);
  return withQuery('/', { cluster, plugin: column });
}

function testHrefOf(cluster: string, key: string): string {
  const [namespace = '', name = ''] = key.split('/');
  return testHref({ cluster, namespace, name });
}

export function heatmapLegend(): Html {
  return html`<p class="legend small" aria-label="Legend"><span><span class="swatch h-passing"></span> passing</span>
<span><span class="swatch h-failing q1"></span><span class="swatch h-failing q2"></span><span class="swatch h-failing q3"></span><span class="swatch h-failing q4"></span> failing: ≤ 10 %, ≤ 33 %, ≤ 66 %, more of its nodes (the number is the %)</span>
<span><span class="swatch h-degraded q2"></span> degraded (under quorum)</span>
<span><span class="swatch h-stale"></span> ? no recent result</span><span><span class="swatch h-silent"></span> ∅ cluster silent</span>
<span><span class="swatch h-maintenance"></span> m maintenance</span><span><span class="swatch h-unsupported"></span> u unsupported</span>
<span><span class="swatch h-pending"></span> … pending</span><span><span class="swatch h-none"></span> not declared</span></p>`;
}

/** The heatmap's table: the problem rows, then healthy clusters folded into one row. */
export function heatmapTable(map: Heatmap): Html {
  if (map.rows.length === 0 && !map.healthy) return html`<p class="muted">No clusters match.</p>`;
  const other = map.foldedColumns > 0;
  return html`<div class="table-wrap heat-wrap"><table class="heatmap" data-by="${map.by}">
<thead><tr><th scope="col">Cluster</th>${map.columns.map((c) => html`<th scope="col" class="vh" title="${c.key}${c.problemClusters ? ` · a problem in ${plural(c.problemClusters, 'cluster')}` : ''}"><span>${c.label}</span></th>`)}${other ? html`<th scope="col" class="vh"><span>${map.foldedColumns} more</span></th>` : ''}</tr></thead>
<tbody>
${map.rows.map(
  (r) =>
    html`<tr data-cluster="${r.cluster}"${r.silent ? html` data-silent` : ''}><th scope="row" class="q${shade(r.worst)}"><a href="${clusterHref(r.cluster)}">${r.cluster}</a></th>${r.cells.map(
      (c, i) => {
        const column = map.columns[i] as Heatmap['columns'][number];
        return cell(r.cluster, column.label, c, cellHref(map, r.cluster, c, column.key));
      },
    )}${r.other ? cell(r.cluster, `${map.foldedColumns} more`, r.other, cellHref(map, r.cluster, r.other, null)) : ''}</tr>`,
)}
${
  map.healthy
    ? html`<tr data-healthy="${map.healthy.clusters}"><th scope="row"><a href="${withQuery('/heatmap', { by: map.by === 'test' ? undefined : map.by, all: 1 })}">${plural(map.healthy.clusters, 'cluster')} all fine</a></th>${map.healthy.cells.map((n) => html`<td class="h h-passing" title="passing in ${plural(n, 'cluster')}">${n || ''}</td>`)}${other ? html`<td class="h h-passing"></td>` : ''}</tr>`
    : ''
}
</tbody></table></div>`;
}

function pager(map: Heatmap, base: Record<string, string | number | undefined>): Html | string {
  if (map.totalRows <= map.rows.length) return '';
  return html`<nav class="pager" aria-label="Pages of clusters"><span class="muted small">rows ${map.offset + 1}–${map.offset + map.rows.length} of ${map.totalRows}</span>
${map.offset > 0 ? html`<a href="${withQuery('/heatmap', { ...base, offset: Math.max(0, map.offset - map.limit) || undefined })}">← Previous</a>` : ''}
${map.offset + map.rows.length < map.totalRows ? html`<a href="${withQuery('/heatmap', { ...base, offset: map.offset + map.limit })}">Next ${map.limit} →</a>` : ''}</nav>`;
}

export function heatmapPage(
  map: Heatmap,
  q: { by: 'test' | 'plugin'; q?: string | undefined; all?: boolean | undefined },
  principal: Principal,
  version: string,
): Html {
  const base = { by: q.by === 'test' ? undefined : q.by, q: q.q, all: q.all ? 1 : undefined };
  const head = html`<section id="filters" aria-label="Filters"><form class="filters" method="get" action="/heatmap">
<label>Columns<select name="by"><option value="test" ${q.by === 'test' ? 'selected' : ''}>tests</option><option value="plugin" ${q.by === 'plugin' ? 'selected' : ''}>plugins</option></select></label>
<label>Cluster name contains<input name="q" value="${q.q ?? ''}" size="16" maxlength="63"></label>
<label class="check"><span>Rows</span><select name="all"><option value="">problems first, healthy folded</option><option value="1" ${q.all ? 'selected' : ''}>every cluster</option></select></label>
<button type="submit">Apply</button> <a href="/heatmap">Clear</a>
</form></section>`;
  const live = html`<h1>Fleet heatmap</h1>
<p class="summary">${plural(map.clusters, 'cluster')}${q.q ? html` matching “${q.q}”` : ''} × ${plural(map.columns.length + map.foldedColumns, map.by === 'test' ? 'test' : 'plugin')} · ${plural(map.totalRows, q.all ? 'row' : 'cluster with a problem', q.all ? 'rows' : 'clusters with a problem')}${map.healthy ? html` · ${map.healthy.clusters} all fine (folded)` : ''}${map.foldedColumns ? html` · the ${map.columns.length} most widely broken columns shown, ${map.foldedColumns} more folded` : ''}</p>
${heatmapLegend()}
${heatmapTable(map)}
${pager(map, base)}`;
  return page({ title: 'Heatmap', principal, version, head, live: region('heatmap', live) });
}
