import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import type { ClusterPage } from '../../services/dashboard/index.ts';
import { agentHref, ago, badge, clusterHref, type Html, page, region, withQuery } from '../layout.ts';
import { availabilityTable, maintenanceSection, rejectedSection } from './operations.ts';
import { testRows } from './overview.ts';

/** What the agent last reported of its spool; "—" for agents that do not report it. */
export function spoolText(a: { spoolDepth: number | null; resultsDropped: number | null }): string {
  if (a.spoolDepth === null) return '—';
  return a.resultsDropped ? `${a.spoolDepth} (${a.resultsDropped} dropped)` : String(a.spoolDepth);
}

export function clusterPage(
  p: ClusterPage,
  principal: Principal,
  version: string,
  agentState?: 'live' | 'stale',
): Html {
  const c = p.cluster;
  const live = html`<h1>Cluster ${c.name}</h1>
${region(
  'summary',
  html`<dl class="kv">
<dt>Agents</dt><dd>${c.agentsLive} live, ${c.agentsStale} stale</dd>
<dt>Tests</dt><dd>${c.testsPassing} passing, ${c.testsFailing} failing, ${c.testsPending} pending</dd>
<dt>Last result</dt><dd>${ago(c.lastResultAt, p.now)}</dd>
</dl>
${availabilityTable(p.availability)}`,
)}
${region('rejected', rejectedSection(p.rejected, p.now))}
${region('maintenance', maintenanceSection(p.maintenance))}
${region(
  'tests',
  html`<h2>Tests</h2>
${testRows(p.tests, p.now, false)}
${p.total > p.tests.length ? html`<p class="muted small">Showing the first ${p.tests.length}; filter on the <a href="${withQuery('/', { cluster: c.name })}">fleet page</a>.</p>` : ''}`,
)}
${region(
  'agents',
  html`<h2 id="agents">Agents <span class="small muted">(stale first)</span></h2>
<nav class="windows" aria-label="Agents by state">${[
    [undefined, `all ${c.agentsLive + c.agentsStale}`],
    ['stale', `${c.agentsStale} stale`],
    ['live', `${c.agentsLive} live`],
  ].map(([state, label]) =>
    state === agentState
      ? html`<strong aria-current="true">${label}</strong>`
      : html`<a href="${withQuery(clusterHref(c.name), { agents: state })}#agents">${label}</a>`,
  )}</nav>
${
  p.agents.length === 0
    ? html`<p class="muted">No agent has registered from this cluster.</p>`
    : html`<div class="table-wrap"><table class="agents"><thead><tr><th>Node</th><th>State</th><th>Version</th><th>Capabilities</th><th>Last poll</th><th>Undelivered results</th><th>Pod</th></tr></thead><tbody>
${p.agents.map(
  (
    a,
  ) => html`<tr data-node="${a.node}"><td><a href="${agentHref(a.agentId)}">${a.node}</a></td><td>${badge(a.state)}</td><td>${a.version}</td>
<td class="small">${a.capabilities.join(', ')}</td><td>${ago(a.lastPollAt, p.now)}</td><td>${spoolText(a)}</td><td class="small">${a.pod ?? '—'}</td></tr>`,
)}
</tbody></table></div>`
}
${p.nextAgentsAfter ? html`<nav class="pager"><a href="${withQuery(clusterHref(c.name), { after: p.nextAgentsAfter, agents: agentState })}#agents">More agents →</a></nav>` : ''}`,
)}`;
  return page({ title: `Cluster ${c.name}`, principal, version, now: p.now, live });
}
