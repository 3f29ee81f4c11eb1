import {
  FAILING_STATUSES,
  type LatestState,
  type RemedyRunView,
  type RunView,
  type TestDetail,
} from '@synthfleet/contracts';
import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import { HISTORY_WINDOWS, type HistoryWindow, type TestPageData } from '../../services/dashboard/index.ts';
import { historyChart } from '../chart.ts';
import {
  absolute,
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
import { availabilityTable, gridLegend, maintenanceSection, sloPanel } from './operations.ts';

/** Rows of the per-agent table a page (problems first). */
const TABLE_AGENTS = 100;
/** Cells the node grid draws; past this the groups show as bars, each opening its own cells. */
const GRID_CELLS = 1000;
/** Groups the grid lists; the rest fold into one. */
const GRID_GROUPS = 60;
/** The zone label Kubernetes puts on nodes (and, with topology labels on pods, on the agent's pod). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

type PageData = TestPageData & {
  window: HistoryWindow;
  agent: string | undefined;
  cursor: string | undefined;
  /** Grid grouping: `zone`, `none` or a pod label key; undefined: zone when agents carry it. */
  group?: string | undefined;
  /** The one group whose cells to draw (when the grid is aggregated). */
  in?: string | undefined;
  /** First row of the per-agent table. */
  from?: number | undefined;
  /** What the last form post did (Run now), in words. */
  notice?: string | undefined;
};

const FAILED = FAILING_STATUSES;
/** Failing first, then stale agents, then the rest. */
const problemRank = (a: LatestState) => (FAILED.has(a.status) ? 0 : a.agentState === 'stale' ? 1 : 2);

type Group = { value: string; agents: LatestState[]; failing: number; stale: number };

/** The agents by a pod label's value (worst groups first), or one group for `none`. */
function groupAgents(d: PageData, agents: LatestState[]): { key: string; label: string | null; groups: Group[] } {
  const hasZone = agents.some((a) => d.podLabels.get(a.agentId)?.[ZONE_LABEL] !== undefined);
  const key = d.group ?? (hasZone ? 'zone' : 'none');
  const label = key === 'none' ? null : key === 'zone' ? ZONE_LABEL : key;
  const byValue = new Map<string, Group>();
  for (const a of agents) {
    const value = label === null ? 'all nodes' : (d.podLabels.get(a.agentId)?.[label] ?? '(no label)');
    let g = byValue.get(value);
    if (!g) {
      g = { value, agents: [], failing: 0, stale: 0 };
      byValue.set(value, g);
    }
    g.agents.push(a);
    if (FAILED.has(a.status)) g.failing++;
    else if (a.agentState === 'stale') g.stale++;
  }
  const groups = [...byValue.values()].sort(
    (x, y) => y.failing - x.failing || y.stale - x.stale || x.value.localeCompare(y.value),
  );
  return { key, label, groups };
}

function cellOf(d: PageData, a: LatestState): Html {
  const stale = a.agentState === 'stale';
  const words = `${a.node ?? a.agentId}: ${stale ? 'stale agent, last result ' : ''}${a.status}`;
  // A relative query: the page's own path, 40 bytes a cell fewer at a thousand cells.
  return html`<a role="listitem" class="cell s-${a.status}${stale ? ' stale' : ''}" href="${withQuery('', { agent: a.agentId, window: d.window })}" title="${words}" aria-label="${words}"></a>`;
}

/** A group as one bar: its nodes by state, in proportion (SVG: the CSP allows no inline style). */
function groupBar(g: Group): Html {
  const n = g.agents.length;
  const other = n - g.failing - g.stale;
  let x = 0;
  const seg = (count: number, cls: string) => {
    if (count === 0) return '';
    const w = (count / n) * 100;
    const r = html`<rect x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="10" class="${cls}"/>`;
    x += w;
    return r;
  };
  return html`<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">${seg(g.failing, 'b-fail')}${seg(g.stale, 'b-stale')}${seg(other, 'b-ok')}</svg>`;
}

function groupWords(g: Group): string {
  return `${g.failing} of ${plural(g.agents.length, 'node')} failing${g.stale ? `, ${g.stale} stale` : ''}`;
}

/**
 * The node grid, grouped (zone by default, any pod label, or none), with a legend; bounded: past
 * GRID_CELLS nodes each group is a bar with its counts that opens its own cells. Then the
 * per-agent table, a page at a time, problems first.
 */
function nodeSection(d: PageData, byNode: LatestState[], here: string): Html {
  const t = d.test;
  const { key, label, groups } = groupAgents(d, byNode);
  const shown = groups.slice(0, GRID_GROUPS);
  const folded = groups.slice(GRID_GROUPS);
  const open = d.in !== undefined ? groups.find((g) => g.value === d.in) : undefined;
  const aggregated = open === undefined && byNode.length > GRID_CELLS;
  const labelKeys = [...new Set([...d.podLabels.values()].flatMap((l) => Object.keys(l)))].sort().slice(0, 20);
  const choose = html`<form class="filters inline" method="get" action="${here}#nodes"><input type="hidden" name="window" value="${d.window}">
<label>Group nodes by<select name="group"><option value="zone" ${key === 'zone' ? 'selected' : ''}>zone</option><option value="none" ${key === 'none' ? 'selected' : ''}>nothing</option>${labelKeys.filter((k) => k !== ZONE_LABEL).map((k) => html`<option value="${k}" ${key === k ? 'selected' : ''}>${k}</option>`)}</select></label>
<button type="submit">Group</button></form>`;
  const groupHead = (g: Group) =>
    html`<h3 class="small group-head" data-group="${g.value}">${label === null ? '' : html`<span class="muted">${label === ZONE_LABEL ? 'zone' : label}</span> `}<strong>${g.value}</strong> · ${groupWords(g)}</h3>`;
  let grid: Html;
  if (open) {
    const cells = open.agents.slice(0, GRID_CELLS);
    grid = html`<p class="small"><a href="${withQuery(here, { window: d.window, group: d.group })}#nodes">← every group</a></p>
<section class="node-group" data-group="${open.value}">${groupHead(open)}<div class="grid" role="list" aria-label="Latest status per node in ${open.value}">${cells.map((a) => cellOf(d, a))}</div>
${open.agents.length > cells.length ? html`<p class="small muted">The first ${cells.length} of ${open.agents.length} (failing first).</p>` : ''}</section>`;
  } else if (aggregated) {
    grid = html`<p class="small muted">${plural(byNode.length, 'node')}: each group as a bar (failing, stale, the rest); open a group for its nodes.</p>
<ul class="group-bars">${shown.map((g) => html`<li data-group="${g.value}"><a href="${withQuery(here, { window: d.window, group: d.group, in: g.value })}#nodes">${g.value}</a> ${groupBar(g)} <span class="small">${groupWords(g)}</span></li>`)}</ul>`;
  } else {
    grid = html`${shown.map(
      (g) =>
        html`<section class="node-group" data-group="${g.value}">${groups.length > 1 || label !== null ? groupHead(g) : ''}<div class="grid" role="list" aria-label="Latest status per node${label === null ? '' : ` in ${g.value}`}">${g.agents.map((a) => cellOf(d, a))}</div></section>`,
    )}`;
  }
  const from = Math.min(d.from ?? 0, Math.max(0, byNode.length - 1));
  const rows = byNode.slice(from, from + TABLE_AGENTS);
  // Two regions: the grid changes only when a node's state does; the table's times on every result.
  return html`${region(
    'grid',
    html`${choose}${gridLegend()}${grid}
${folded.length ? html`<p class="small muted">and ${plural(folded.length, 'more group')}: ${folded.reduce((n, g) => n + g.failing, 0)} failing of ${folded.reduce((n, g) => n + g.agents.length, 0)} nodes.</p>` : ''}`,
  )}
${region(
  'agent-table',
  html`<div class="table-wrap"><table class="agent-states"><thead><tr><th>Node</th><th>Status</th><th>Marks</th><th>When</th><th>Duration</th><th>Failures in a row</th></tr></thead><tbody>
${rows.map(
  (
    a,
  ) => html`<tr><td><a href="${withQuery(here, { agent: a.agentId, window: d.window })}">${a.node ?? a.agentId}</a></td><td>${badge(a.status)}</td><td>${a.marks}/${a.maxMarks}</td>
<td><a href="${runHref(t, a.runId)}">${ago(a.endTime, d.now)}</a>${a.agentState === 'stale' ? html` ${badge('stale')}` : ''}</td><td>${a.durationMs.toFixed(1)} ms</td><td>${a.consecutiveFailures}</td></tr>`,
)}
</tbody></table></div>
${
  byNode.length > TABLE_AGENTS
    ? html`<nav class="pager" aria-label="Pages of agents"><span class="muted small">agents ${from + 1}–${from + rows.length} of ${byNode.length} (failing first)</span>
${from > 0 ? html`<a href="${withQuery(here, { window: d.window, group: d.group, from: Math.max(0, from - TABLE_AGENTS) || undefined })}#nodes">← Previous</a>` : ''}
${from + rows.length < byNode.length ? html`<a href="${withQuery(here, { window: d.window, group: d.group, from: from + TABLE_AGENTS })}#nodes">Next ${TABLE_AGENTS} →</a>` : ''}</nav>`
    : ''
}`,
)}`;
}

function runHref(t: TestDetail, runId: string): string {
  return `${testHref(t)}/runs/${encodeURIComponent(runId)}`;
}

export function testPage(d: PageData, principal: Principal, version: string): Html {
  const t = d.test;
  const here = testHref(t);
  const byNode = [...t.agents].sort(
    (a, b) => problemRank(a) - problemRank(b) || (a.node ?? '').localeCompare(b.node ?? ''),
  );
  const agentName = d.agent ? (t.agents.find((a) => a.agentId === d.agent)?.node ?? d.agent) : undefined;
  const runNow = d.canRun
    ? html`<form class="run-now" method="post" action="${here}/run"><button type="submit" data-run-now>Run now</button></form>`
    : '';
  const live = html`${region(
    'head',
    html`<h1>${t.displayName ?? t.name} ${badge(d.display)}${runNow}</h1>
<p class="muted">${t.namespace}/${t.name} in <a href="${clusterHref(t.cluster)}">${t.cluster}</a> · ${t.plugin} · revision ${t.revision}${t.importance ? ` · ${t.importance}` : ''} · declared by ${t.source === 'api' ? 'the API' : `syncer source ${t.source}`}</p>
${d.notice ? html`<p class="notice" role="status" data-notice="run-now">${d.notice}</p>` : ''}
${t.rejectedEdit ? html`<div class="error-box" role="alert" data-rejected-edit><strong>The latest edit was refused</strong> (${absolute(t.rejectedEdit.since)}): ${t.rejectedEdit.reason}. Revision ${t.revision}, the last valid spec, keeps running until the manifest is fixed or deleted.</div>` : ''}
${d.display === 'maintenance' && t.maintenance ? html`<p class="notice-maint" role="status" data-maintenance-notice>In maintenance until <time datetime="${t.maintenance.end}">${absolute(t.maintenance.end)}</time>${t.maintenance.reason ? `: ${t.maintenance.reason}` : ''}. Runs are stored and shown (marked) but count toward no verdict, availability or alert.</p>` : ''}
${d.display !== 'maintenance' && d.staleReason ? html`<div class="error-box" role="alert">This test is a problem: ${d.staleReason}.</div>` : ''}
${d.display === 'failing' ? html`<div class="error-box" role="alert">Failing for ${lasting(t.failingSince, d.now)}${t.failingSince ? html` (since <time datetime="${t.failingSince}">${absolute(t.failingSince)}</time>)` : ''} on ${t.failingAgents} of ${plural(t.assignedAgents, 'agent')}: ${t.lastFailureMessage ?? ''}</div>` : ''}
<dl class="kv">
${t.placementNote ? html`<dt>Placement</dt><dd data-placement-note>${t.placementNote}</dd>` : ''}
<dt>Assigned to</dt><dd>${plural(t.assignedTo.length, 'agent')}${t.assignedTo.length ? html`: ${t.assignedTo.slice(0, 10).map((a, i) => html`${i ? ', ' : ''}<a href="${agentHref(a.agentId)}">${a.node}</a>`)}${t.assignedTo.length > 10 ? ' …' : ''}` : ''}</dd>
<dt>Last result</dt><dd>${ago(t.lastRunAt, d.now)}</dd>
${t.runRequest ? html`<dt>Run now</dt><dd>asked ${ago(t.runRequest.requestedAt, d.now)}</dd>` : ''}
</dl>`,
  )}
${region(
  'slo',
  html`${sloPanel(t.slo)}
${availabilityTable(t.availability)}
${maintenanceSection(d.maintenance)}`,
)}
<h2 id="nodes">Latest result per agent</h2>
${
  t.agents.length === 0
    ? html`${region('grid', html`<p class="muted">No agent has reported yet.</p>`)}${region('agent-table', '')}`
    : nodeSection(d, byNode, here)
}
${region('remedies', remediesSection(t, d.remedies, d.now))}
${region(
  'history',
  html`<h2 id="history">History${agentName ? html` on ${agentName} <a class="small" href="${withQuery(here, { window: d.window })}">(all agents)</a>` : ''}</h2>
<nav class="windows" aria-label="Window">${(Object.keys(HISTORY_WINDOWS) as HistoryWindow[]).map((w) =>
    w === d.window
      ? html`<strong aria-current="true">${w}</strong>`
      : html`<a href="${withQuery(here, { window: w, agent: d.agent })}">${w}</a>`,
  )}</nav>
${historyChart(d.history)}`,
)}
${region(
  'runs',
  html`<h2 id="runs">Runs</h2>
${runsTable(t, d.runs.runs, d.now)}
<nav class="pager">
${d.cursor ? html`<a href="${withQuery(here, { window: d.window, agent: d.agent })}#runs">← Newest</a>` : ''}
${d.runs.nextCursor ? html`<a href="${withQuery(here, { window: d.window, agent: d.agent, cursor: d.runs.nextCursor })}#runs">Older →</a>` : ''}
</nav>`,
)}
${region('spec', html`<details><summary>Spec</summary><pre>${JSON.stringify(t.spec, null, 2)}</pre></details>`)}`;
  return page({ title: t.displayName ?? t.name, principal, version, now: d.now, live });
}

/** The remedy as configured and its latest runs; nothing for a test that has neither. */
function remediesSection(t: TestDetail, remedies: RemedyRunView[], now: number): Html | string {
  const r = t.spec.remedy;
  if (!r && remedies.length === 0) return '';
  const what = r
    ? html`<p class="muted">${r.webhook ? html`Webhook ${r.webhook.url}` : html`Job in ${r.job?.namespace ?? "the agent's namespace"}`}
after every ${r.after} failed runs in a row on a node${r.runsLimit ? html` · at most ${r.runsLimit} runs${r.resetInterval ? html`, counted again ${r.resetInterval} after the last` : ''}` : ''}.</p>`
    : html`<p class="muted">The test has no remedy now; these ran under an earlier revision.</p>`;
  const rows =
    remedies.length === 0
      ? html`<p class="muted">No remedy has run.</p>`
      : html`<div class="table-wrap"><table class="remedies"><thead><tr><th>Started</th><th>Status</th><th>Node</th><th>Attempt</th><th>Failures in a row</th><th>Outcome</th></tr></thead><tbody>
${remedies.map(
  (
    x,
  ) => html`<tr data-remedy="${x.id}"><td>${ago(x.startedAt, now)}<div class="small muted">${x.startedAt}</div></td><td>${badge(x.status)}</td>
<td><a href="${agentHref(x.agentId)}">${x.node}</a></td><td>${x.attempt}${r?.runsLimit ? ` of ${r.runsLimit}` : ''}</td>
<td><a href="${runHref(t, x.triggerRunId)}">${x.failures}</a></td><td class="small">${x.message ?? (x.status === 'running' ? `running; no outcome by ${x.deadline} is recorded as unknown` : '')}</td></tr>`,
)}
</tbody></table></div>`;
  return html`<h2 id="remedies">Remedies</h2>
${what}
${rows}`;
}

function runsTable(t: TestDetail, runs: RunView[], now: number): Html {
  if (runs.length === 0) return html`<p class="muted">No runs yet.</p>`;
  const nodes = new Map(t.agents.map((a) => [a.agentId, a.node]));
  return html`<div class="table-wrap"><table class="runs"><thead><tr><th>Started</th><th>Status</th><th>Node</th><th>Marks</th><th>Duration</th><th>Error</th></tr></thead><tbody>
${runs.map(
  (
    r,
  ) => html`<tr data-run="${r.runId}"${r.maintenance ? html` class="maint" data-maintenance` : ''}${r.trigger?.type === 'manual' ? html` data-manual` : ''}><td><a href="${runHref(t, r.runId)}">${ago(r.startTime, now)}</a><div class="small muted">${r.startTime}${r.trigger?.type === 'manual' ? ' · run now' : ''}${r.maintenance ? ' · in maintenance' : ''}</div></td>
<td>${badge(r.status)}</td><td>${nodes.get(r.agentId) ?? r.agentId}</td><td>${r.marks}/${r.maxMarks}</td><td>${r.durationMs.toFixed(1)} ms</td>
<td class="small">${(r.details._error ?? '').slice(0, 200)}</td></tr>`,
)}
</tbody></table></div>`;
}

export function runPage(
  t: { cluster: string; namespace: string; name: string; displayName: string | null },
  run: RunView & { node: string | null },
  now: number,
  principal: Principal,
  version: string,
): Html {
  const { _log, _error, ...other } = run.details;
  const live = html`<h1>Run of <a href="${testHref(t)}">${t.displayName ?? t.name}</a> ${badge(run.status)}</h1>
<dl class="kv">
<dt>Run id</dt><dd>${run.runId}</dd>
<dt>Node</dt><dd><a href="${agentHref(run.agentId)}">${run.node ?? run.agentId}</a></dd>
<dt>Started</dt><dd>${run.startTime} (${ago(run.startTime, now)})</dd>
<dt>Duration</dt><dd>${run.durationMs.toFixed(1)} ms</dd>
<dt>Marks</dt><dd>${run.marks}/${run.maxMarks}</dd>
<dt>Revision</dt><dd>${run.revision ?? '—'}</dd>
</dl>
${_error ? html`<h2>Error</h2><pre class="run-error">${_error}</pre>` : ''}
<h2>Log</h2>
${_log ? html`<pre class="run-log">${_log}</pre>` : html`<p class="muted">The probe logged nothing.</p>`}
${Object.keys(other).length ? html`<h2>Details</h2><pre>${JSON.stringify(other, null, 2)}</pre>` : ''}
${run.gauges.length ? html`<h2>Gauges</h2><div class="table-wrap"><table><thead><tr><th>Name</th><th>Value</th><th>Labels</th></tr></thead><tbody>${run.gauges.map((g) => html`<tr><td>${g.name}</td><td>${g.value}</td><td class="small">${JSON.stringify(g.labels ?? {})}</td></tr>`)}</tbody></table></div>` : ''}`;
  return page({ title: `Run ${run.runId}`, principal, version, now, live: region('main', live) });
}
