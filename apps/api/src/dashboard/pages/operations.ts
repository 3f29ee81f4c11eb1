import type { Availability, MaintenanceView, SloStatus } from '@synthfleet/contracts';
import { formatSpan } from '@synthfleet/contracts';
import { html } from 'hono/html';
import type { Incident } from '../../services/dashboard/incidents.ts';
import type { RejectedObject } from '../../services/dashboard/shared.ts';
import { absolute, badge, clusterHref, type Html, plural, testHref, withQuery } from '../layout.ts';

/*
 * The operations fragments shared by the overview, cluster and test pages: maintenance windows,
 * refused objects, availability and the SLO panel, and the node grid's legend.
 */

const percent = (a: Availability | undefined) =>
  a?.percent === null || a?.percent === undefined ? '—' : `${a.percent.toFixed(a.percent >= 99 ? 3 : 2)} %`;

function selectorText(w: MaintenanceView): string {
  if (w.test) return w.test;
  const s = w.selector;
  const parts = [
    s.cluster ?? 'every cluster',
    s.namespace ? `namespace ${s.namespace}` : '',
    s.name ? `tests ${s.name}` : '',
    ...Object.entries(s.labels).map(([k, v]) => `${k}=${v}`),
  ];
  return parts.filter(Boolean).join(' · ');
}

/** Active and upcoming windows; nothing when there are none. */
export function maintenanceSection(windows: readonly MaintenanceView[], heading = 'Maintenance'): Html | string {
  if (windows.length === 0) return '';
  return html`<h2 id="maintenance">${heading}</h2>
<ul class="maintenance">
${windows.map((w) => {
  const span = w.current ?? w.next;
  return html`<li data-maintenance-window="${w.id ?? w.test ?? ''}" data-active="${String(w.active)}">
<strong>${w.active ? 'Now' : 'Upcoming'}</strong>${span ? html` <time datetime="${span.start}">${absolute(span.start)}</time> – <time datetime="${span.end}">${absolute(span.end)}</time>` : ''}:
${w.reason} <span class="small muted">(${selectorText(w)}${w.schedule ? html`; every <code>${w.schedule}</code>${w.timezone ? ` ${w.timezone}` : ' UTC'} for ${w.duration}` : ''})</span></li>`;
})}
</ul>`;
}

/** Objects the API refused: a never-valid one, or an invalid edit whose last valid spec runs on. */
export function rejectedSection(list: readonly RejectedObject[], now: number): Html | string {
  if (list.length === 0) return '';
  return html`<h2 id="rejected">Refused objects</h2>
<div class="error-box" role="alert"><div class="table-wrap"><table class="rejected"><thead><tr><th>Object</th><th>Why</th><th>Since</th><th>Runs</th></tr></thead><tbody>
${list.map(
  (r) => html`<tr data-rejected="${r.cluster}/${r.namespace}/${r.name}">
<td>${r.keptRevision === null ? html`${r.namespace}/${r.name}` : html`<a href="${testHref(r)}">${r.namespace}/${r.name}</a>`}<div class="small muted"><a href="${clusterHref(r.cluster)}">${r.cluster}</a></div></td>
<td class="small">${r.reason}</td>
<td class="small">${formatSpan(now - r.since)} ago</td>
<td class="small">${r.keptRevision === null ? 'never valid: not running' : `revision ${r.keptRevision} (the last valid spec) keeps running`}</td></tr>`,
)}
</tbody></table></div></div>`;
}

/** Availability per window as a compact table. */
export function availabilityTable(windows: Readonly<Record<string, Availability>>): Html {
  const names = Object.keys(windows);
  return html`<div class="table-wrap"><table class="availability"><thead><tr><th>Availability</th>${names.map((w) => html`<th>${w}</th>`)}</tr></thead>
<tbody><tr><td class="small muted">runs passed / counted</td>${names.map(
    (w) =>
      html`<td data-window="${w}">${percent(windows[w])}<div class="small muted">${windows[w]?.passed ?? 0} / ${windows[w]?.total ?? 0}</div></td>`,
  )}</tr></tbody></table></div>`;
}

/** The SLO panel: objective, availability over its window, budget left (share and time), burn rates. */
export function sloPanel(slo: SloStatus | null): Html | string {
  if (!slo) return '';
  const left = slo.budget.remaining;
  const state = left === null ? 'unknown' : left <= 0 ? 'exhausted' : left < 0.25 ? 'low' : 'ok';
  const burn = (w: string) => {
    const b = slo.burnRate[w];
    return b === null || b === undefined ? '—' : `${b.toFixed(b >= 10 ? 0 : 1)}×`;
  };
  return html`<section class="slo s-${state}" data-slo="${state}" aria-label="SLO">
<h2>SLO: ${slo.objective} % over ${slo.window}</h2>
<dl class="kv">
<dt>Availability (${slo.window})</dt><dd>${percent(slo.availability)} <span class="small muted">(${slo.availability.passed} of ${slo.availability.total} runs)</span></dd>
<dt>Error budget left</dt><dd data-budget>${left === null ? 'no runs counted yet' : html`${(left * 100).toFixed(1)} %${left <= 0 ? html` — <strong>exhausted</strong>` : ''} <span class="small muted">(${left > 0 ? formatSpan(slo.budget.remainingMs ?? 0) : `${formatSpan(-(slo.budget.remainingMs ?? 0))} over`} of ${formatSpan(slo.budget.totalMs)} of outage in the window)</span>`}</dd>
<dt>Burn rate</dt><dd>${burn('1h')} over 1 h · ${burn('6h')} over 6 h <span class="small muted">(1× spends the budget exactly over the window; 14.4× over 1 h pages)</span></dd>
</dl></section>`;
}

/** What the node grid's colours mean. */
export function gridLegend(): Html {
  const items: [string, string][] = [
    ['pass', 'passed'],
    ['fail', 'failed (fail, error, timeout)'],
    ['skipped', 'skipped'],
    ['unsupported', 'lacks the plugin'],
    ['pass stale', 'agent stale (its last result, hatched)'],
  ];
  return html`<p class="legend small muted" data-legend>${items.map(([s, text]) => html`<span><i class="swatch s-${s}" aria-hidden="true"></i> ${text}</span>`)}
<span>· one square per node, failing first; hover for its node and when</span></p>`;
}

const INCIDENTS_SHOWN = 10;
const pct = (x: number) =>
  `${x >= 0.995 ? Math.round(x * 100) : x >= 0.1 ? Math.round(x * 100) : (x * 100).toFixed(1)} %`;

/** How far an incident reaches, in words: nodes of nodes, the share of the cluster(s) and of the fleet. */
export function reachText(i: Incident): string {
  if (i.kind === 'silent') return `silent: ${plural(i.of, 'agent')}, no result within the threshold`;
  if (i.kind === 'stale') return `${i.affected} of ${i.of} agents stale (${pct(i.affected / Math.max(1, i.of))} of it)`;
  const fleet = `${pct(i.fleetShare)} of the fleet`;
  if (i.clusterCount === 1) {
    const c = i.clusters[0];
    return `${i.affected} of ${plural(i.of, 'node')} in ${c?.name ?? ''} (${pct(i.affected / Math.max(1, i.of))} of it; ${fleet})`;
  }
  const head =
    i.each !== null
      ? `${plural(i.each, 'node')} each in ${i.clusterCount} clusters`
      : `${i.affected} nodes in ${i.clusterCount} clusters`;
  return `${head} (${i.affected} of ${i.of} nodes; ${fleet})`;
}

/** Where to look: the worst cluster's test page (the others are listed beside it), or the cluster. */
function incidentHref(i: Incident): string {
  const worst = i.clusters[0]?.name ?? i.title;
  if (i.kind === 'test') {
    const [namespace, name] = (i.test ?? '/').split('/') as [string, string];
    return testHref({ cluster: worst, namespace, name });
  }
  return i.kind === 'stale' ? `${withQuery(clusterHref(worst), { agents: 'stale' })}#agents` : clusterHref(worst);
}

/** The incidents, widest first; nothing when all is well. */
export function incidentsSection(incidents: readonly Incident[]): Html | string {
  if (incidents.length === 0) return '';
  const shown = incidents.slice(0, INCIDENTS_SHOWN);
  return html`<h2 id="incidents">Incidents <span class="small muted">(${incidents.length}; widest, most important and newest first)</span></h2>
<ol class="incidents">
${shown.map(
  (
    i,
  ) => html`<li data-incident="${i.kind === 'test' ? i.test : i.title}" data-kind="${i.kind}" data-severity="${i.severity}">
${badge(i.kind === 'test' ? i.severity : i.kind === 'silent' ? 'silent' : 'stale')} <a href="${incidentHref(i)}"><strong>${i.title}</strong></a>${i.test && i.title !== i.test.split('/')[1] ? html` <span class="small muted">${i.test}</span>` : ''}
<div data-reach>${reachText(i)}${i.importance ? ` · ${i.importance}` : ''}${i.since !== null ? html` · since <time datetime="${new Date(i.since).toISOString()}">${absolute(new Date(i.since).toISOString())}</time>` : ''}</div>
${i.clusterCount > 1 ? html`<div class="small muted">${i.clusters.map((c, k) => html`${k ? ', ' : ''}<a href="${testHref({ cluster: c.name, namespace: (i.test ?? '/').split('/')[0] as string, name: (i.test ?? '/').split('/')[1] as string })}">${c.name}</a> ${c.affected}/${c.of}`)}${i.clusterCount > i.clusters.length ? ` and ${i.clusterCount - i.clusters.length} more` : ''}</div>` : ''}
</li>`,
)}
</ol>
${incidents.length > shown.length ? html`<p class="small muted">and ${incidents.length - shown.length} more below in the tests list.</p>` : ''}`;
}
