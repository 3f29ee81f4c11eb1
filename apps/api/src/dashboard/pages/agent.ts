import { FAILING_STATUSES } from '@synthfleet/contracts';
import { html } from 'hono/html';
import type { Principal } from '../../services/context.ts';
import type { AgentPage } from '../../services/dashboard/index.ts';
import { ago, badge, clusterHref, type Html, page, region, testHref, withQuery } from '../layout.ts';
import { spoolText } from './cluster.ts';

const FAILED = FAILING_STATUSES;
type Row = AgentPage['tests'][number];
/** Failing first, then no result yet, then skipped or unsupported, then passing. */
const rank = (r: Row) => (!r.latest ? 1 : FAILED.has(r.latest.status) ? 0 : r.latest.status === 'pass' ? 3 : 2);
export type AgentFilter = 'failing' | 'passing' | 'none';
const matches = (r: Row, f: AgentFilter | undefined) =>
  f === undefined || (f === 'failing' ? rank(r) === 0 : f === 'passing' ? rank(r) === 3 : rank(r) === 1);

export function agentPage(p: AgentPage, principal: Principal, version: string, filter?: AgentFilter): Html {
  const a = p.agent;
  const sorted = [...p.tests].sort((x, y) => rank(x) - rank(y));
  const shown = sorted.filter((r) => matches(r, filter));
  const count = (f: AgentFilter) => sorted.filter((r) => matches(r, f)).length;
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
<h2 id="tests">Tests it runs <span class="small muted">(failing first)</span></h2>
<nav class="windows" aria-label="Tests by latest result">${(
    [
      [undefined, `all ${sorted.length}`],
      ['failing', `${count('failing')} failing`],
      ['none', `${count('none')} without a result`],
      ['passing', `${count('passing')} passing`],
    ] as [AgentFilter | undefined, string][]
  ).map(([f, label]) =>
    f === filter
      ? html`<strong aria-current="true">${label}</strong>`
      : html`<a href="${withQuery(`/agents/${encodeURIComponent(a.agentId)}`, { latest: f })}#tests">${label}</a>`,
  )}</nav>
${
  shown.length === 0
    ? html`<p class="muted">${p.tests.length === 0 ? 'Nothing is assigned to this agent.' : 'No test matches.'}</p>`
    : html`<div class="table-wrap"><table><thead><tr><th>Test</th><th>Plugin</th><th>Latest</th><th>When</th><th>Duration</th><th>Message</th></tr></thead><tbody>
${shown.map(
  ({
    test: t,
    latest: l,
  }) => html`<tr data-test="${t.namespace}/${t.name}" data-latest="${l?.status ?? 'none'}"><td><a href="${withQuery(testHref(t), { agent: a.agentId })}">${t.displayName ?? t.name}</a><div class="small muted">${t.namespace}/${t.name}</div></td>
<td>${t.plugin}</td><td>${l ? badge(l.status) : html`<span class="muted">no result yet</span>`}</td>
<td>${l ? ago(l.endTime, p.now) : ''}</td><td>${l ? `${l.durationMs.toFixed(1)} ms` : ''}</td><td class="small">${l?.message ?? ''}</td></tr>`,
)}
</tbody></table></div>`
}`;
  return page({ title: `Agent ${a.node}`, principal, version, now: p.now, live: region('main', live) });
}
