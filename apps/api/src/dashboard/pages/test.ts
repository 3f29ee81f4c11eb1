import type { RemedyRunView, RunView, TestDetail } from '@synthfleet/contracts';
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
  page,
  plural,
  testHref,
  withQuery,
} from '../layout.ts';
import { availabilityTable, gridLegend, maintenanceSection, sloPanel } from './operations.ts';

const TABLE_AGENTS = 200;

type PageData = TestPageData & {
  window: HistoryWindow;
  agent: string | undefined;
  cursor: string | undefined;
  /** What the last form post did (Run now), in words. */
  notice?: string | undefined;
};

function runHref(t: TestDetail, runId: string): string {
  return `${testHref(t)}/runs/${encodeURIComponent(runId)}`;
}

export function testPage(d: PageData, principal: Principal, version: string): Html {
  const t = d.test;
  const here = testHref(t);
  const byNode = [...t.agents].sort(
    (a, b) => Number(a.status === 'pass') - Number(b.status === 'pass') || (a.node ?? '').localeCompare(b.node ?? ''),
  );
  const agentName = d.agent ? (t.agents.find((a) => a.agentId === d.agent)?.node ?? d.agent) : undefined;
  const runNow = d.canRun
    ? html`<form class="run-now" method="post" action="${here}/run"><button type="submit" data-run-now>Run now</button></form>`
    : '';
  const live = html`<h1>${t.displayName ?? t.name} ${badge(d.display)}${runNow}</h1>
<p class="muted">${t.namespace}/${t.name} in <a href="${clusterHref(t.cluster)}">${t.cluster}</a> · ${t.plugin} · revision ${t.revision}${t.importance ? ` · ${t.importance}` : ''} · declared by ${t.source === 'api' ? 'the API' : `syncer source ${t.source}`}</p>
${d.notice ? html`<p class="notice" role="status" data-notice="run-now">${d.notice}</p>` : ''}
${t.rejectedEdit ? html`<div class="error-box" role="alert" data-rejected-edit><strong>The latest edit was refused</strong> (${absolute(t.rejectedEdit.since)}): ${t.rejectedEdit.reason}. Revision ${t.revision}, the last valid spec, keeps running until the manifest is fixed or deleted.</div>` : ''}
${d.display === 'maintenance' && t.maintenance ? html`<p class="notice-maint" role="status" data-maintenance-notice>In maintenance until <time datetime="${t.maintenance.end}">${absolute(t.maintenance.end)}</time>${t.maintenance.reason ? `: ${t.maintenance.reason}` : ''}. Runs are stored and shown (marked) but count toward no verdict, availability or alert.</p>` : ''}
${d.display !== 'maintenance' && d.staleReason ? html`<div class="error-box" role="alert">This test is a problem: ${d.staleReason}.</div>` : ''}
${d.display === 'failing' ? html`<div class="error-box" role="alert">Failing for ${ago(t.failingSince, d.now).replace(' ago', '')}${t.failingSince ? html` (since <time datetime="${t.failingSince}">${absolute(t.failingSince)}</time>)` : ''} on ${t.failingAgents} of ${plural(t.assignedAgents, 'agent')}: ${t.lastFailureMessage ?? ''}</div>` : ''}
<dl class="kv">
${t.placementNote ? html`<dt>Placement</dt><dd data-placement-note>${t.placementNote}</dd>` : ''}
<dt>Assigned to</dt><dd>${plural(t.assignedTo.length, 'agent')}${t.assignedTo.length ? html`: ${t.assignedTo.slice(0, 10).map((a, i) => html`${i ? ', ' : ''}<a href="${agentHref(a.agentId)}">${a.node}</a>`)}${t.assignedTo.length > 10 ? ' …' : ''}` : ''}</dd>
<dt>Last result</dt><dd>${ago(t.lastRunAt, d.now)}</dd>
${t.runRequest ? html`<dt>Run now</dt><dd>asked ${ago(t.runRequest.requestedAt, d.now)}</dd>` : ''}
</dl>
${sloPanel(t.slo)}
${availabilityTable(t.availability)}
${maintenanceSection(d.maintenance)}

<h2>Latest result per agent</h2>
${
  t.agents.length === 0
    ? html`<p class="muted">No agent has reported yet.</p>`
    : html`${gridLegend()}<div class="grid" role="list" aria-label="Latest status per node">
${byNode.map((a) => html`<a role="listitem" class="cell s-${a.status}${a.agentState === 'stale' ? ' stale' : ''}" href="${withQuery(here, { agent: a.agentId, window: d.window })}" title="${a.node ?? a.agentId}: ${a.agentState === 'stale' ? 'agent stale; last result ' : ''}${a.status} ${ago(a.endTime, d.now)}" aria-label="${a.node ?? a.agentId}: ${a.agentState === 'stale' ? 'stale agent, last result ' : ''}${a.status}"></a>`)}
</div>
<div class="table-wrap"><table class="agent-states"><thead><tr><th>Node</th><th>Status</th><th>Marks</th><th>When</th><th>Duration</th><th>Failures in a row</th></tr></thead><tbody>
${byNode.slice(0, TABLE_AGENTS).map(
  (
    a,
  ) => html`<tr><td><a href="${withQuery(here, { agent: a.agentId, window: d.window })}">${a.node ?? a.agentId}</a></td><td>${badge(a.status)}</td><td>${a.marks}/${a.maxMarks}</td>
<td><a href="${runHref(t, a.runId)}">${ago(a.endTime, d.now)}</a>${a.agentState === 'stale' ? html` ${badge('stale')}` : ''}</td><td>${a.durationMs.toFixed(1)} ms</td><td>${a.consecutiveFailures}</td></tr>`,
)}
</tbody></table></div>
${t.agents.length > TABLE_AGENTS ? html`<p class="small muted">The table shows the first ${TABLE_AGENTS} (failing first); the grid shows all ${t.agents.length}.</p>` : ''}`
}

${remediesSection(t, d.remedies, d.now)}

<h2 id="history">History${agentName ? html` on ${agentName} <a class="small" href="${withQuery(here, { window: d.window })}">(all agents)</a>` : ''}</h2>
<nav class="windows" aria-label="Window">${(Object.keys(HISTORY_WINDOWS) as HistoryWindow[]).map((w) =>
    w === d.window
      ? html`<strong aria-current="true">${w}</strong>`
      : html`<a href="${withQuery(here, { window: w, agent: d.agent })}">${w}</a>`,
  )}</nav>
${historyChart(d.history)}

<h2 id="runs">Runs</h2>
${runsTable(t, d.runs.runs, d.now)}
<nav class="pager">
${d.cursor ? html`<a href="${withQuery(here, { window: d.window, agent: d.agent })}#runs">← Newest</a>` : ''}
${d.runs.nextCursor ? html`<a href="${withQuery(here, { window: d.window, agent: d.agent, cursor: d.runs.nextCursor })}#runs">Older →</a>` : ''}
</nav>

<details><summary>Spec</summary><pre>${JSON.stringify(t.spec, null, 2)}</pre></details>`;
  return page({ title: t.displayName ?? t.name, principal, version, live });
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
  return page({ title: `Run ${run.runId}`, principal, version, live });
}
