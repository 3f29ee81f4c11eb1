import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import type { AgentPage } from '../../services/dashboard/index.ts';
import { ago, badge, clusterHref, type Html, page, region, testHref, withQuery } from '../layout.ts';
import { spoolText } from './cluster.ts';

export function agentPage(p: AgentPage, principal: Principal, version: string): Html {
  const a = p.agent;
  const live = html`<h1>Agent ${a.node}</h1>
<dl class="kv">
<dt>Cluster</dt><dd><a href="${clusterHref(a.cluster)}">${a.cluster}</a></dd>
<dt>State</dt><dd>${badge(a.state)}</dd>
<dt>Version</dt><dd>${a.version}</dd>
<dt>Pod</dt><dd>${a.pod ?? '—'}</dd>
<dt>Capabilities</dt><dd>${a.capabilities.join(', ')}</dd>
<dt>Last poll</dt><dd>${ago(a.lastPollAt, p.now)}</dd>
<dt>Undelivered results</dt><dd>${spoolText(a)}</dd>
<dt>Registered</dt><dd>${ago(a.registeredAt, p.now)}</dd>
<dt>Agent id</dt><dd class="small">${a.agentId}</dd>
</dl>
<h2>Tests it runs</h2>
${
  p.tests.length === 0
    ? html`<p class="muted">Nothing is assigned to this agent.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>Test</th><th>Plugin</th><th>Latest</th><th>When</th><th>Duration</th><th>Message</th></tr></thead><tbody>
${p.tests.map(
  ({
    test: t,
    latest: l,
  }) => html`<tr><td><a href="${withQuery(testHref(t), { agent: a.agentId })}">${t.displayName ?? t.name}</a><div class="small muted">${t.namespace}/${t.name}</div></td>
<td>${t.plugin}</td><td>${l ? badge(l.status) : html`<span class="muted">no result yet</span>`}</td>
<td>${l ? ago(l.endTime, p.now) : ''}</td><td>${l ? `${l.durationMs.toFixed(1)} ms` : ''}</td><td class="small">${l?.message ?? ''}</td></tr>`,
)}
</tbody></table></div>`
}`;
  return page({ title: `Agent ${a.node}`, principal, version, now: p.now, live: region('main', live) });
}
